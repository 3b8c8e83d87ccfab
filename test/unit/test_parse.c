/*-------------------------------------------------------------------------
 *
 * test_parse.c
 *	  Unit tests for the vector text parser (src/types/vecparse.c).
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "types/vecparse.h"

#define PMAX 16001

static float pout[PMAX + 1];

/*
 * Parse s with maxdim; check the status, and for OK the values (expect,
 * nexpect).  The text must be unchanged and nothing written at
 * out[maxdim] (a canary).
 */
static void
expect_parse(const char *s, int maxdim, VecxParseStatus want,
			 const float *expect, int nexpect)
{
	size_t		len = strlen(s);
	char	   *buf = malloc(len + 1);
	int			ndim = -1,
				i;
	const char *errpos = NULL;
	VecxParseStatus st;

	memcpy(buf, s, len + 1);
	pout[maxdim] = 12345.0f;
	st = vecx_parse_vector(buf, pout, maxdim, &ndim, &errpos);
	CHECK(st == want, "parse \"%.60s\" maxdim %d: status %d, expected %d",
		  s, maxdim, (int) st, (int) want);
	CHECK(memcmp(buf, s, len + 1) == 0, "parse \"%.60s\" modified its input", s);
	CHECK(pout[maxdim] == 12345.0f, "parse \"%.60s\" wrote past maxdim", s);
	if (st == VECX_PARSE_OK && want == VECX_PARSE_OK && expect != NULL)
	{
		int			bad = 0;

		CHECK(ndim == nexpect, "parse \"%.60s\": ndim %d, expected %d",
			  s, ndim, nexpect);
		for (i = 0; i < nexpect && i < ndim; i++)
			bad += memcmp(&pout[i], &expect[i], sizeof(float)) != 0;
		CHECK(bad == 0, "parse \"%.60s\": %d values differ", s, bad);
	}
	if (st != VECX_PARSE_OK)
		CHECK(errpos != NULL && errpos >= buf && errpos <= buf + len,
			  "parse \"%.60s\": errpos outside the input", s);
	free(buf);
}

/* Where errpos points for a failing input (offset into s, -1 if none). */
static long
parse_errpos(const char *s, int maxdim)
{
	const char *errpos = NULL;
	int			ndim;

	if (vecx_parse_vector(s, pout, maxdim, &ndim, &errpos) == VECX_PARSE_OK ||
		errpos == NULL)
		return -1;
	return errpos - s;
}

void
test_parse(void)
{
	static const float v123[] = {1, 2, 3};
	static const float vmix[] = {1, 2.5f, -300};
	static const float vforms[] = {-0.0f, 1, 0.5f, 5, 1e-3f, 12};
	static const float vlim[] = {FLT_MAX, -FLT_MAX, FLT_MIN};
	static char big[PMAX * 3 + 8];
	long		before = unit_passed + unit_failed;
	uint64_t	x = 88172645463325252ULL;
	int			i,
				pos;

	/* valid forms */
	expect_parse("[1,2,3]", 16000, VECX_PARSE_OK, v123, 3);
	expect_parse("[ 1 , 2.5 , -3e2 ]", 16000, VECX_PARSE_OK, vmix, 3);
	expect_parse("  [1,2,3]  ", 16000, VECX_PARSE_OK, v123, 3);
	expect_parse("[\t1,\n2 ,3\r]", 16000, VECX_PARSE_OK, v123, 3);
	expect_parse("[-0,+1,.5,5.,1E-3,1.2e1]", 16000, VECX_PARSE_OK, vforms, 6);
	expect_parse("[3.4028235e38,-3.4028235e38,1.17549435e-38]", 16000,
				 VECX_PARSE_OK, vlim, 3);
	expect_parse("[1,2,3]", 3, VECX_PARSE_OK, v123, 3);
	expect_parse("[1]", 1, VECX_PARSE_OK, v123, 1);

	/* empty, too many */
	expect_parse("[]", 16000, VECX_PARSE_EMPTY, NULL, 0);
	expect_parse("[ ]", 16000, VECX_PARSE_EMPTY, NULL, 0);
	expect_parse("[1,2,3]", 2, VECX_PARSE_TOO_MANY, NULL, 0);
	expect_parse("[1,2]", 1, VECX_PARSE_TOO_MANY, NULL, 0);

	/* out of range, not finite */
	expect_parse("[1e39]", 16000, VECX_PARSE_OUT_OF_RANGE, NULL, 0);
	expect_parse("[1,-1e39]", 16000, VECX_PARSE_OUT_OF_RANGE, NULL, 0);
	expect_parse("[3.5e38]", 16000, VECX_PARSE_OUT_OF_RANGE, NULL, 0);
	expect_parse("[1e400]", 16000, VECX_PARSE_OUT_OF_RANGE, NULL, 0);
	expect_parse("[NaN]", 16000, VECX_PARSE_NOT_FINITE, NULL, 0);
	expect_parse("[1,Infinity]", 16000, VECX_PARSE_NOT_FINITE, NULL, 0);
	expect_parse("[-Infinity,1]", 16000, VECX_PARSE_NOT_FINITE, NULL, 0);

	/* syntax */
	{
		static const char *const bad[] = {
			"", " ", "1,2", "[1,2", "[1,,2]", "[1 2]", "[a]", "[1,]", "[,1]",
			"[1]x", "[1] 2", "[[1]]", "(1,2)", "[1;2]", "[1e]", "[-]", "[.]",
			"[1,2]]", "[", "]", "[--1]", "[1..2]"
		};

		for (i = 0; i < (int) (sizeof(bad) / sizeof(bad[0])); i++)
			expect_parse(bad[i], 16000, VECX_PARSE_SYNTAX, NULL, 0);
	}
	CHECK(parse_errpos("[1,2,x]", 16000) == 5, "errpos at the bad element: %ld",
		  parse_errpos("[1,2,x]", 16000));

	/* the largest vector, one element too many, and no write past it */
	pos = 0;
	big[pos++] = '[';
	for (i = 0; i < 16000; i++)
	{
		big[pos++] = (char) ('0' + i % 10);
		big[pos++] = ',';
	}
	big[pos - 1] = ']';
	big[pos] = '\0';
	expect_parse(big, 16000, VECX_PARSE_OK, NULL, 0);
	CHECK(pout[15999] == 9.0f && pout[0] == 0.0f, "16000 elements parsed");
	expect_parse(big, 15999, VECX_PARSE_TOO_MANY, NULL, 0);

	/* every finite float printed with %.9g reads back bit-identical */
	{
		int			bad = 0;

		for (i = 0; i < 200000; i++)
		{
			char		txt[64];
			float		f;
			uint32_t	u;
			int			ndim;
			const char *errpos;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			u = (uint32_t) x;
			memcpy(&f, &u, 4);
			if (!isfinite(f))
				continue;
			snprintf(txt, sizeof(txt), "[%.9g]", (double) f);
			if (vecx_parse_vector(txt, pout, 1, &ndim, &errpos) != VECX_PARSE_OK ||
				ndim != 1 || memcmp(&pout[0], &f, 4) != 0)
			{
				if (bad++ < 5)
					fprintf(stderr, "round trip %s -> %.9g\n", txt, pout[0]);
			}
		}
		CHECK(bad == 0, "%%.9g round trip: %d wrong", bad);
	}
	/*
	 * The fast path for short decimals must give exactly what strtof()
	 * gives: the same bits and the same end.  Random decimals of 1 to 12
	 * digits, any point position, leading zeros, signs, exponents of 0 to 4
	 * digits; and whole vectors parsed with and without it.
	 */
	{
		int			bad = 0,
					taken = 0,
					n;
		static const char *edge[] = {
			"0", "-0", "+0", "0.", ".0", "-.5", "1.", "16777216", "16777217",
			"16777215", "1677721.6", "1e10", "1e-10", "1e11", "1e-11", "9e10",
			"0x10", "0X1p3", "1e", "1e+", "1e-", "1.5e3x", "2.5E-3", "00000000000000000001",
			"0.0000000001", "0.00000000001", "123456789", "1.1754944e-38", "3.4028235e38",
			"inf", "nan", "-infinity", ".", "-", "+", "1..2", "1e0001", "1e001",
			"4294967296", "429496729.6", "0.1", "0.2", "0.3", "-0.0123457", "255"
		};

		for (i = 0; i < (int) (sizeof(edge) / sizeof(edge[0])) + 400000; i++)
		{
			char		txt[64];
			const char *t = txt;
			float		a = 0.0f,
						b;
			const char *ea = NULL;
			char	   *eb;
			int			pos = 0,
						nd,
						dot,
						k;

			if (i < (int) (sizeof(edge) / sizeof(edge[0])))
				t = edge[i];
			else
			{
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				if (x % 4 == 0)
					txt[pos++] = (x >> 8) % 2 ? '-' : '+';
				nd = 1 + (int) ((x >> 10) % 12);
				dot = (int) ((x >> 14) % (nd + 2)) - 1;	/* -1: none */
				for (k = 0; k < nd; k++)
				{
					if (k == dot)
						txt[pos++] = '.';
					txt[pos++] = (char) ('0' + (k < (int) ((x >> 18) % 3) ? 0 : (x >> (20 + k * 3)) % 10));
				}
				if ((x >> 40) % 3 == 0)
				{
					int			ed = (int) ((x >> 42) % 5);

					txt[pos++] = (x >> 45) % 2 ? 'e' : 'E';
					if ((x >> 46) % 3 == 0)
						txt[pos++] = (x >> 48) % 2 ? '-' : '+';
					for (k = 0; k < ed; k++)
						txt[pos++] = (char) ('0' + (k == 0 ? (x >> 50) % 2 : (x >> (51 + k)) % 10));
				}
				if ((x >> 58) % 4 == 0)
					txt[pos++] = (x >> 60) % 2 ? ',' : 'x';
				txt[pos] = '\0';
			}
			b = strtof(t, &eb);
			if (vecx_parse_float_fast(t, &a, &ea))
			{
				taken++;
				if (memcmp(&a, &b, 4) != 0 || ea != eb)
				{
					if (bad++ < 5)
						fprintf(stderr, "fast path \"%s\": %.9g end %d, strtof %.9g end %d\n",
								t, (double) a, (int) (ea - t), (double) b, (int) (eb - t));
				}
			}
		}
		/* mantissas around 2^24 and random ones up to 2^26, every exponent */
		for (n = 0; n < 300000; n++)
		{
			char		txt[64];
			float		a,
						b;
			const char *ea;
			char	   *eb;
			uint32_t	m;
			int			e;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			m = n < 100000 ? (uint32_t) (16777216 - 500 + n % 1000) : (uint32_t) (x % (1u << 26));
			e = (int) ((x >> 32) % 25) - 12;
			if ((x >> 40) % 2)
				snprintf(txt, sizeof(txt), "%ue%d", m, e);
			else
			{
				/* the same value with a decimal point, when e <= 0 */
				int			len = snprintf(txt, sizeof(txt), "%u", m);
				int			shift = e < 0 ? -e : 0;

				if (shift > 0 && shift < len)
				{
					memmove(txt + len - shift + 1, txt + len - shift, shift + 1);
					txt[len - shift] = '.';
				}
			}
			b = strtof(txt, &eb);
			if (vecx_parse_float_fast(txt, &a, &ea))
			{
				taken++;
				if (memcmp(&a, &b, 4) != 0 || ea != eb)
				{
					if (bad++ < 5)
						fprintf(stderr, "fast path \"%s\": %.9g, strtof %.9g\n",
								txt, (double) a, (double) b);
				}
			}
		}
		CHECK(bad == 0, "fast float path differs from strtof: %d", bad);
		CHECK(taken > 100000, "fast float path taken %d times", taken);

		/* whole vectors: the same status, values and error position */
		bad = 0;
		for (n = 0; n < 20000; n++)
		{
			char		txt[256];
			int			pos = 0,
						k,
						nd1,
						nd2;
			const char *e1,
					   *e2;
			VecxParseStatus s1,
						s2;
			static float o2[8];

			txt[pos++] = '[';
			for (k = 0; k < 6; k++)
			{
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				pos += snprintf(txt + pos, sizeof(txt) - pos, "%s%s%.*f%s",
								k ? "," : "", (x % 7 == 0) ? " " : "",
								(int) ((x >> 8) % 9), ((double) (int64_t) (x >> 16) / 1e9) * ((x % 5) ? 1 : 1e12),
								(x % 11 == 0) ? "e-3" : "");
			}
			txt[pos++] = ']';
			txt[pos] = '\0';
			vecx_parse_fast_enabled = 1;
			s1 = vecx_parse_vector(txt, pout, 8, &nd1, &e1);
			vecx_parse_fast_enabled = 0;
			s2 = vecx_parse_vector(txt, o2, 8, &nd2, &e2);
			vecx_parse_fast_enabled = 1;
			if (s1 != s2 || (s1 == VECX_PARSE_OK && (nd1 != nd2 || memcmp(pout, o2, sizeof(float) * nd1) != 0)) ||
				(s1 != VECX_PARSE_OK && e1 != e2))
			{
				if (bad++ < 5)
					fprintf(stderr, "vector \"%s\": fast and strtof-only parses differ\n", txt);
			}
		}
		CHECK(bad == 0, "vectors parse differently with the fast path: %d", bad);
	}
	printf("parser: %ld checks\n", unit_passed + unit_failed - before);
}
