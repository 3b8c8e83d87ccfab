/*-------------------------------------------------------------------------
 *
 * vecparse.c
 *	  Server-independent parser for the vector text form "[1, 2.5, -3e2]".
 *
 * Grammar: optional whitespace, '[', one or more elements separated by
 * ',', ']', optional whitespace, end of string.  Whitespace may surround
 * every element.  Elements are whatever strtof() accepts; strtof() is
 * locale-dependent, which is fine because the server always runs with
 * LC_NUMERIC=C.  Short decimals skip strtof() (vecx_parse_float_fast), with
 * the same result.
 *
 * The input is only ever read: an input function that scribbled on its
 * argument once broke logical replication for another extension.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "vecparse.h"

/* The same set of space characters as scanner_isspace() */
static inline int
vecx_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

static inline const char *
skip_space(const char *p)
{
	while (vecx_isspace(*p))
		p++;
	return p;
}

int			vecx_parse_fast_enabled = 1;

/* Powers of ten that a float holds exactly (5^10 < 2^24) */
static const float vecx_pow10f[] = {
	1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f
};

/*
 * vecx_parse_float_fast
 *		Clinger's fast path, in single precision: a decimal with mantissa
 *		m <= 2^24 and exponent |e| <= 10 is m * 10^e (or m / 10^-e), both
 *		operands exactly representable, so the one IEEE operation rounds
 *		correctly, which is what strtof() does.  Texts like "0", "255",
 *		"-0.0123457" and "1.5e-3" take this path; anything else (more digits,
 *		hex, inf, nan, larger exponents) is left to strtof().  A form that
 *		strtof() would read further (hex "0x", an exponent) is never cut
 *		short here: such texts return 0.
 */
int
vecx_parse_float_fast(const char *p, float *val, const char **end)
{
	const char *s = p;
	int			neg = 0;
	uint32_t	m = 0;
	int			exp10 = 0;
	int			ndigits = 0;
	float		f;

	if (*s == '-' || *s == '+')
		neg = (*s++ == '-');
	if (*s == '0' && (s[1] == 'x' || s[1] == 'X'))
		return 0;
	for (; *s >= '0' && *s <= '9'; s++)
	{
		ndigits++;
		if (m > (1u << 24) / 10)
			return 0;			/* more significant digits than a float */
		m = m * 10 + (uint32_t) (*s - '0');
	}
	if (*s == '.')
	{
		for (s++; *s >= '0' && *s <= '9'; s++)
		{
			ndigits++;
			if (m > (1u << 24) / 10)
				return 0;
			m = m * 10 + (uint32_t) (*s - '0');
			exp10--;
		}
	}
	if (ndigits == 0)
		return 0;				/* ".", "-", "inf", "nan", ... */
	if (*s == 'e' || *s == 'E')
	{
		const char *t = s + 1;
		int			eneg = 0;
		int			e = 0;
		int			edigits = 0;

		if (*t == '-' || *t == '+')
			eneg = (*t++ == '-');
		for (; *t >= '0' && *t <= '9'; t++)
		{
			if (++edigits > 3)
				return 0;
			e = e * 10 + (*t - '0');
		}
		if (edigits == 0)
			return 0;			/* "1e" or "1e+": strtof's business */
		exp10 += eneg ? -e : e;
		s = t;
	}
	if (m > (1u << 24) || exp10 < -10 || exp10 > 10)
		return 0;
	f = (float) m;
	if (exp10 > 0)
		f *= vecx_pow10f[exp10];
	else if (exp10 < 0)
		f /= vecx_pow10f[-exp10];
	*val = neg ? -f : f;
	*end = s;
	return 1;
}

VecxParseStatus
vecx_parse_vector(const char *str, float *out, int maxdim, int *ndim,
				  const char **errpos)
{
	const char *p = str;
	int			dim = 0;

	*ndim = 0;
	*errpos = str;

	p = skip_space(p);
	if (*p != '[')
	{
		*errpos = p;
		return VECX_PARSE_SYNTAX;
	}
	p = skip_space(p + 1);

	if (*p == ']')
	{
		const char *q = skip_space(p + 1);

		/* "[] junk" is malformed before it is empty */
		if (*q != '\0')
		{
			*errpos = q;
			return VECX_PARSE_SYNTAX;
		}
		*errpos = p;
		return VECX_PARSE_EMPTY;
	}

	for (;;)
	{
		const char *fend;
		float		val;

		p = skip_space(p);

		/*
		 * strtof() would skip leading space itself and reports no
		 * conversion on an empty element; checking here keeps the error
		 * position on the element.
		 */
		if (*p == ',' || *p == ']' || *p == '\0')
		{
			*errpos = p;
			return VECX_PARSE_SYNTAX;
		}

		if (dim >= maxdim)
		{
			*errpos = p;
			return VECX_PARSE_TOO_MANY;
		}

		if (!vecx_parse_fast_enabled ||
			!vecx_parse_float_fast(p, &val, &fend))
		{
			char	   *end;

			errno = 0;
			val = strtof(p, &end);
			if (end == p)
			{
				*errpos = p;
				return VECX_PARSE_SYNTAX;
			}

			/* Overflow gives ERANGE with HUGE_VALF; underflow to 0 is fine */
			if (errno == ERANGE && isinf(val))
			{
				*errpos = p;
				return VECX_PARSE_OUT_OF_RANGE;
			}

			/* "nan", "inf", "infinity" written literally */
			if (isnan(val) || isinf(val))
			{
				*errpos = p;
				return VECX_PARSE_NOT_FINITE;
			}
			fend = end;
		}
		out[dim++] = val;

		p = skip_space(fend);
		if (*p == ',')
			p++;
		else if (*p == ']')
		{
			p++;
			break;
		}
		else
		{
			*errpos = p;
			return VECX_PARSE_SYNTAX;
		}
	}

	p = skip_space(p);
	if (*p != '\0')
	{
		*errpos = p;
		return VECX_PARSE_SYNTAX;
	}

	*ndim = dim;
	return VECX_PARSE_OK;
}
