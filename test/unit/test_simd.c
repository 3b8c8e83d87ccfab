/*-------------------------------------------------------------------------
 *
 * test_simd.c
 *	  Unit tests for the distance and conversion kernels (src/simd).
 *
 * Every kernel of every table this CPU can run is compared with the
 * scalar reference and with a double-precision reference for every
 * dimension 1..2048, on several value ranges; the half conversions are
 * checked exhaustively (f16->f32) and on millions of chosen and random
 * floats (f32->f16) against independent implementations written with
 * frexp/ldexp/nearbyint rather than bit manipulation.  The sq8 kernels
 * (float32 query against 8-bit codes) are compared with a double
 * reference and the scalar table over dims 0..300 and a few large ones,
 * on exact data sets and on rounding-bound ones; dot_u8 bit for bit.
 *
 *-------------------------------------------------------------------------
 */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "simd/simd.h"
#include "unit.h"

long		unit_passed = 0;
long		unit_failed = 0;

#define MAXDIM 2048

/* 2^-24: unit roundoff of binary32 */
#define U32 5.9604644775390625e-08

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* uniform in [lo, hi) */
static double
rng_uniform(double lo, double hi)
{
	return lo + (hi - lo) * ((double) (rng() >> 11) / 9007199254740992.0);
}

static uint32_t
fbits(float f)
{
	uint32_t	u;

	memcpy(&u, &f, 4);
	return u;
}

static float
bitsf(uint32_t u)
{
	float		f;

	memcpy(&f, &u, 4);
	return f;
}

/* ---------- independent conversion references ---------- */

/* half -> double by the definition of binary16 (NaN: returns NAN). */
static double
ref_h2d(uint16_t h)
{
	int			sign = (h & 0x8000) ? -1 : 1;
	int			exp = (h >> 10) & 0x1f;
	int			mant = h & 0x3ff;

	if (exp == 31)
		return mant ? NAN : sign * INFINITY;
	if (exp == 0)
		return sign * ldexp((double) mant, -24);
	return sign * ldexp((double) (1024 + mant), exp - 25);
}

/*
 * float -> half: round |f| to a multiple of the half quantum at its
 * magnitude with nearbyint (ties to even in the default rounding mode),
 * then encode.  NaN gives 0x7e00 with f's sign; callers compare NaN-ness.
 */
static uint16_t
ref_f2h(float f)
{
	uint16_t	sign = signbit(f) ? 0x8000 : 0;
	double		x = fabs((double) f);
	double		v;
	int			e,
				ee;

	if (isnan(f))
		return sign | 0x7e00;
	if (x >= 65520.0)			/* half way to 2^16 rounds (to even) up */
		return sign | 0x7c00;
	if (x == 0)
		return sign;
	frexp(x, &e);				/* x in [2^(e-1), 2^e) */
	ee = e - 1 < -14 ? -14 : e - 1;
	v = nearbyint(x / ldexp(1.0, ee - 10)) * ldexp(1.0, ee - 10);
	if (v == 0)
		return sign;
	if (v < ldexp(1.0, -14))
		return sign | (uint16_t) (v / ldexp(1.0, -24));
	frexp(v, &e);
	ee = e - 1;
	return sign | (uint16_t) ((ee + 15) << 10) |
		(uint16_t) (v / ldexp(1.0, ee - 10) - 1024);
}

static int
half_is_nan(uint16_t h)
{
	return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
}

/* ---------- tables ---------- */

static const VecxKernels *tables[4];
static int	ntables;

static void
collect_tables(void)
{
	const VecxKernels *cand[] = {
		&vecx_kernels_scalar, vecx_kernels_avx2, vecx_kernels_avx512,
		vecx_kernels_neon
	};
	int			i;

	for (i = 0; i < 4; i++)
	{
		if (cand[i] == NULL)
			continue;
		if (!vecx_simd_supported(cand[i]))
		{
			printf("table %s: compiled in, not supported by this CPU (skipped)\n",
				   cand[i]->name);
			continue;
		}
		tables[ntables++] = cand[i];
	}
}

/* ---------- distance kernels ---------- */

/*
 * Tolerance.  Summing n terms t_i in binary32 in any order (and with or
 * without FMA) gives a result within about (n + 2) * u * sum |t_i| of the
 * exact sum (u = 2^-24; the classic gamma_n bound for recursive summation,
 * which also covers the blocked/pairwise orders of the vector kernels
 * since their depth is lower; +2 covers the rounding of a - b and of the
 * product).  Two such results thus differ by at most 2 (n + 2) u S; we
 * allow 2 (n + 16) u S plus n * 2^-140 absolute for underflow (each
 * product or sum in the subnormal range may be off by half a subnormal
 * ulp, 2^-150).  A genuinely wrong kernel (a dropped, doubled or
 * misaligned element) is caught separately and exactly by the small
 * integer data set, whose sums are exact in binary32 in any order.
 */
static double
tolerance(int n, double s)
{
	return 2.0 * (n + 16) * U32 * s + n * ldexp(1.0, -140);
}

typedef struct Ref
{
	double		l2,
				l2s;			/* value and sum of |terms| */
	double		dot,
				dots;
	double		aa,
				bb;				/* sums of squares: their own S */
	double		l1;
} Ref;

static void
ref_f64(const double *a, const double *b, int n, Ref *r)
{
	int			i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++)
	{
		double		d = a[i] - b[i];

		r->l2 += d * d;
		r->dot += a[i] * b[i];
		r->dots += fabs(a[i] * b[i]);
		r->aa += a[i] * a[i];
		r->bb += b[i] * b[i];
		r->l1 += fabs(d);
	}
	r->l2s = r->l2;
}

static int
close_enough(double x, double y, double tol)
{
	if (isnan(x) || isnan(y))
		return 0;
	if (isinf(x) || isinf(y))
		return x == y;
	return fabs(x - y) <= tol;
}

/*
 * Check every table's float32 kernels on a, b (length n) against the
 * scalar table and the double reference; exact: sums must be identical.
 */
static void
check_f32(const float *a, const float *b, int n, int exact, const char *what)
{
	double		da[MAXDIM + 64],
				db[MAXDIM + 64];
	Ref			r;
	float		s_l2,
				s_dot,
				s_cd,
				s_ca,
				s_cb,
				s_l1;
	int			t,
				i;

	for (i = 0; i < n; i++)
	{
		da[i] = a[i];
		db[i] = b[i];
	}
	ref_f64(da, db, n, &r);
	s_l2 = vecx_kernels_scalar.l2sq_f32(a, b, n);
	s_dot = vecx_kernels_scalar.dot_f32(a, b, n);
	vecx_kernels_scalar.cos_f32(a, b, n, &s_cd, &s_ca, &s_cb);
	s_l1 = vecx_kernels_scalar.l1_f32(a, b, n);

	/* scalar vs exact (half the two-result bound) */
	CHECK(close_enough(s_l2, r.l2, tolerance(n, r.l2s) / 2), "scalar l2sq_f32 %s n=%d: %.9g vs %.17g", what, n, s_l2, r.l2);
	CHECK(close_enough(s_dot, r.dot, tolerance(n, r.dots) / 2), "scalar dot_f32 %s n=%d: %.9g vs %.17g", what, n, s_dot, r.dot);
	CHECK(s_cd == s_dot || close_enough(s_cd, r.dot, tolerance(n, r.dots) / 2), "scalar cos_f32.dot %s n=%d", what, n);
	CHECK(close_enough(s_ca, r.aa, tolerance(n, r.aa) / 2), "scalar cos_f32.aa %s n=%d", what, n);
	CHECK(close_enough(s_cb, r.bb, tolerance(n, r.bb) / 2), "scalar cos_f32.bb %s n=%d", what, n);
	CHECK(close_enough(s_l1, r.l1, tolerance(n, r.l1) / 2), "scalar l1_f32 %s n=%d: %.9g vs %.17g", what, n, s_l1, r.l1);

	for (t = 1; t < ntables; t++)
	{
		const VecxKernels *k = tables[t];
		float		v,
					cd,
					ca,
					cb;

		v = k->l2sq_f32(a, b, n);
		CHECK(exact ? v == s_l2 : close_enough(v, s_l2, tolerance(n, r.l2s)),
			  "%s l2sq_f32 %s n=%d: %.9g vs scalar %.9g", k->name, what, n, v, s_l2);
		v = k->dot_f32(a, b, n);
		CHECK(exact ? v == s_dot : close_enough(v, s_dot, tolerance(n, r.dots)),
			  "%s dot_f32 %s n=%d: %.9g vs scalar %.9g", k->name, what, n, v, s_dot);
		k->cos_f32(a, b, n, &cd, &ca, &cb);
		CHECK(exact ? cd == s_cd : close_enough(cd, s_cd, tolerance(n, r.dots)),
			  "%s cos_f32.dot %s n=%d: %.9g vs scalar %.9g", k->name, what, n, cd, s_cd);
		CHECK(exact ? ca == s_ca : close_enough(ca, s_ca, tolerance(n, r.aa)),
			  "%s cos_f32.aa %s n=%d: %.9g vs scalar %.9g", k->name, what, n, ca, s_ca);
		CHECK(exact ? cb == s_cb : close_enough(cb, s_cb, tolerance(n, r.bb)),
			  "%s cos_f32.bb %s n=%d: %.9g vs scalar %.9g", k->name, what, n, cb, s_cb);
		v = k->l1_f32(a, b, n);
		CHECK(exact ? v == s_l1 : close_enough(v, s_l1, tolerance(n, r.l1)),
			  "%s l1_f32 %s n=%d: %.9g vs scalar %.9g", k->name, what, n, v, s_l1);
	}
}

static void
check_f16(const vecx_half *a, const vecx_half *b, int n, int exact,
		  const char *what)
{
	double		da[MAXDIM + 64],
				db[MAXDIM + 64];
	Ref			r;
	float		s_l2,
				s_dot,
				s_cd,
				s_ca,
				s_cb,
				s_l1;
	int			t,
				i;

	for (i = 0; i < n; i++)
	{
		da[i] = ref_h2d(a[i]);
		db[i] = ref_h2d(b[i]);
	}
	ref_f64(da, db, n, &r);
	s_l2 = vecx_kernels_scalar.l2sq_f16(a, b, n);
	s_dot = vecx_kernels_scalar.dot_f16(a, b, n);
	vecx_kernels_scalar.cos_f16(a, b, n, &s_cd, &s_ca, &s_cb);
	s_l1 = vecx_kernels_scalar.l1_f16(a, b, n);

	CHECK(close_enough(s_l2, r.l2, tolerance(n, r.l2s) / 2), "scalar l2sq_f16 %s n=%d: %.9g vs %.17g", what, n, s_l2, r.l2);
	CHECK(close_enough(s_dot, r.dot, tolerance(n, r.dots) / 2), "scalar dot_f16 %s n=%d: %.9g vs %.17g", what, n, s_dot, r.dot);
	CHECK(close_enough(s_cd, r.dot, tolerance(n, r.dots) / 2), "scalar cos_f16.dot %s n=%d", what, n);
	CHECK(close_enough(s_ca, r.aa, tolerance(n, r.aa) / 2), "scalar cos_f16.aa %s n=%d", what, n);
	CHECK(close_enough(s_cb, r.bb, tolerance(n, r.bb) / 2), "scalar cos_f16.bb %s n=%d", what, n);
	CHECK(close_enough(s_l1, r.l1, tolerance(n, r.l1) / 2), "scalar l1_f16 %s n=%d: %.9g vs %.17g", what, n, s_l1, r.l1);

	for (t = 1; t < ntables; t++)
	{
		const VecxKernels *k = tables[t];
		float		v,
					cd,
					ca,
					cb;

		v = k->l2sq_f16(a, b, n);
		CHECK(exact ? v == s_l2 : close_enough(v, s_l2, tolerance(n, r.l2s)),
			  "%s l2sq_f16 %s n=%d: %.9g vs scalar %.9g", k->name, what, n, v, s_l2);
		v = k->dot_f16(a, b, n);
		CHECK(exact ? v == s_dot : close_enough(v, s_dot, tolerance(n, r.dots)),
			  "%s dot_f16 %s n=%d: %.9g vs scalar %.9g", k->name, what, n, v, s_dot);
		k->cos_f16(a, b, n, &cd, &ca, &cb);
		CHECK(exact ? cd == s_cd : close_enough(cd, s_cd, tolerance(n, r.dots)),
			  "%s cos_f16.dot %s n=%d: %.9g vs scalar %.9g", k->name, what, n, cd, s_cd);
		CHECK(exact ? ca == s_ca : close_enough(ca, s_ca, tolerance(n, r.aa)),
			  "%s cos_f16.aa %s n=%d: %.9g vs scalar %.9g", k->name, what, n, ca, s_ca);
		CHECK(exact ? cb == s_cb : close_enough(cb, s_cb, tolerance(n, r.bb)),
			  "%s cos_f16.bb %s n=%d: %.9g vs scalar %.9g", k->name, what, n, cb, s_cb);
		v = k->l1_f16(a, b, n);
		CHECK(exact ? v == s_l1 : close_enough(v, s_l1, tolerance(n, r.l1)),
			  "%s l1_f16 %s n=%d: %.9g vs scalar %.9g", k->name, what, n, v, s_l1);
	}
}

enum
{
	R_UNIT,						/* uniform [-1, 1) */
	R_INT,						/* small integers 0..63: exact sums */
	R_PIXEL,					/* integers 0..255 (Fashion-MNIST like) */
	R_LARGE,					/* large, sums just below FLT_MAX */
	R_TINY,						/* products underflow to subnormals */
	R_MIXED,					/* random exponents 2^-40..2^40, signs */
	R_ZERO,						/* zeros and negative zeros */
	R_COUNT
};

static const char *const range_names[] = {
	"unit", "int", "pixel", "large", "tiny", "mixed", "zero"
};

static float
gen_f32(int range, int n)
{
	switch (range)
	{
		case R_UNIT:
			return (float) rng_uniform(-1, 1);
		case R_INT:
			return (float) (rng() % 64);
		case R_PIXEL:
			return (float) (rng() % 256);
		case R_LARGE:
			/* |a - b|^2 * n and |a|^2 * n stay below 1e37 */
			return (float) rng_uniform(-1, 1) * (float) sqrt(2.5e36 / n);
		case R_TINY:
			return (float) rng_uniform(-1, 1) * 1e-22f;
		case R_MIXED:
			return (float) ldexp(rng_uniform(-1, 1), (int) (rng() % 81) - 40);
		default:
			return (rng() & 1) ? -0.0f : 0.0f;
	}
}

/* half data sets: same idea, within the binary16 range */
static vecx_half
gen_f16(int range, int n)
{
	uint16_t	h;

	switch (range)
	{
		case R_UNIT:
			return vecx_float_to_half((float) rng_uniform(-1, 1));
		case R_INT:
			return vecx_float_to_half((float) (rng() % 64));
		case R_PIXEL:
			return vecx_float_to_half((float) (rng() % 256));
		case R_LARGE:
			/* any finite half, up to +-65504 */
			do
				h = (uint16_t) rng();
			while ((h & 0x7c00) == 0x7c00);
			return h;
		case R_TINY:
			/* subnormal halves */
			return (uint16_t) (rng() & 0x83ff);
		case R_MIXED:
			return vecx_float_to_half((float) ldexp(rng_uniform(-1, 1),
													(int) (rng() % 31) - 15));
		default:
			return (rng() & 1) ? 0x8000 : 0;
	}
}

static void
test_distances(void)
{
	static float fa[MAXDIM + 8],
				fb[MAXDIM + 8];
	static vecx_half ha[MAXDIM + 8],
				hb[MAXDIM + 8];
	int			n,
				range,
				i;
	long		before = unit_passed + unit_failed;

	for (n = 1; n <= MAXDIM; n++)
	{
		for (range = 0; range < R_COUNT; range++)
		{
			/* vary the alignment: offsets 0..3 elements */
			int			off = (n + range) % 4;
			int			exact = (range == R_INT || range == R_ZERO);
			char		what[32];

			snprintf(what, sizeof(what), "%s/off%d", range_names[range], off);
			for (i = 0; i < n; i++)
			{
				fa[off + i] = gen_f32(range, n);
				fb[off + i] = gen_f32(range, n);
				ha[off + i] = gen_f16(range, n);
				hb[off + i] = gen_f16(range, n);
			}
			check_f32(fa + off, fb + off, n, exact, what);
			check_f16(ha + off, hb + off, n, exact, what);
		}
	}
	printf("distance kernels, dims 1..%d, %d ranges, %d tables: %ld checks\n",
		   MAXDIM, R_COUNT, ntables, unit_passed + unit_failed - before);
}

/* Overflow gives inf and NaN propagates, the same in every table. */
static void
test_special_values(void)
{
	static float fa[256],
				fb[256];
	static vecx_half ha[256],
				hb[256];
	int			n,
				t,
				i;

	for (n = 1; n <= 256; n++)
	{
		for (i = 0; i < n; i++)
		{
			fa[i] = 3e38f;
			fb[i] = -3e38f;
			ha[i] = 0x7bff;		/* 65504 */
			hb[i] = 0xfbff;
		}
		for (t = 0; t < ntables; t++)
		{
			const VecxKernels *k = tables[t];
			float		cd,
						ca,
						cb,
						v;

			CHECK(k->l2sq_f32(fa, fb, n) == INFINITY, "%s l2sq_f32 overflow n=%d", k->name, n);
			CHECK(k->dot_f32(fa, fb, n) == -INFINITY, "%s dot_f32 overflow n=%d", k->name, n);
			k->cos_f32(fa, fb, n, &cd, &ca, &cb);
			CHECK(cd == -INFINITY && ca == INFINITY && cb == INFINITY, "%s cos_f32 overflow n=%d", k->name, n);
			CHECK(k->l1_f32(fa, fb, n) == INFINITY, "%s l1_f32 overflow n=%d", k->name, n);
			/* halves cannot overflow a float sum at these sizes */
			v = k->l2sq_f16(ha, hb, n);
			CHECK(v == (float) n * 131008.0f * 131008.0f ||
				  fabs(v - (double) n * 131008.0 * 131008.0) <= tolerance(n, (double) n * 131008.0 * 131008.0),
				  "%s l2sq_f16 max n=%d: %.9g", k->name, n, v);
			v = k->l1_f16(ha, hb, n);
			CHECK(v == (float) n * 131008.0f, "%s l1_f16 max n=%d: %.9g", k->name, n, v);

			/* one NaN anywhere makes every result NaN */
			i = (int) (rng() % n);
			fa[i] = NAN;
			ha[i] = 0x7e00;
			CHECK(isnan(k->l2sq_f32(fa, fb, n)), "%s l2sq_f32 nan n=%d", k->name, n);
			CHECK(isnan(k->dot_f32(fa, fb, n)), "%s dot_f32 nan n=%d", k->name, n);
			k->cos_f32(fa, fb, n, &cd, &ca, &cb);
			CHECK(isnan(cd) && isnan(ca) && !isnan(cb), "%s cos_f32 nan n=%d", k->name, n);
			CHECK(isnan(k->l1_f32(fa, fb, n)), "%s l1_f32 nan n=%d", k->name, n);
			CHECK(isnan(k->l2sq_f16(ha, hb, n)), "%s l2sq_f16 nan n=%d", k->name, n);
			CHECK(isnan(k->dot_f16(ha, hb, n)), "%s dot_f16 nan n=%d", k->name, n);
			k->cos_f16(ha, hb, n, &cd, &ca, &cb);
			CHECK(isnan(cd) && isnan(ca) && !isnan(cb), "%s cos_f16 nan n=%d", k->name, n);
			CHECK(isnan(k->l1_f16(ha, hb, n)), "%s l1_f16 nan n=%d", k->name, n);
			fa[i] = 3e38f;
			ha[i] = 0x7bff;
		}
	}

	/* n = 0 is an empty sum */
	for (t = 0; t < ntables; t++)
	{
		const VecxKernels *k = tables[t];
		float		cd = 1,
					ca = 1,
					cb = 1;

		CHECK(k->l2sq_f32(fa, fb, 0) == 0 && k->dot_f32(fa, fb, 0) == 0 &&
			  k->l1_f32(fa, fb, 0) == 0 && k->l2sq_f16(ha, hb, 0) == 0 &&
			  k->dot_f16(ha, hb, 0) == 0 && k->l1_f16(ha, hb, 0) == 0,
			  "%s n=0", k->name);
		k->cos_f32(fa, fb, 0, &cd, &ca, &cb);
		CHECK(cd == 0 && ca == 0 && cb == 0, "%s cos_f32 n=0", k->name);
	}
}

/*
 * Kernels must not read past the end of their operands: put each operand
 * flush against a PROT_NONE page (a stray read faults), for every length
 * up to a few vector widths and a few larger ones.
 */
static void
test_bounds(void)
{
	long		pg = sysconf(_SC_PAGESIZE);
	char	   *m[2];
	int			j,
				t,
				n;

	for (j = 0; j < 2; j++)
	{
		m[j] = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m[j] == MAP_FAILED || mprotect(m[j] + pg, pg, PROT_NONE) != 0)
		{
			perror("mmap");
			exit(2);
		}
		memset(m[j], 0, pg);
	}
	for (n = 1; n <= 1024; n += (n < 140 ? 1 : 37))
	{
		const float *fa = (const float *) (m[0] + pg) - n;
		const float *fb = (const float *) (m[1] + pg) - n;
		const vecx_half *ha = (const vecx_half *) (m[0] + pg) - n;
		const vecx_half *hb = (const vecx_half *) (m[1] + pg) - n;
		const uint8_t *ca = (const uint8_t *) (m[0] + pg) - n;
		const uint8_t *cb = (const uint8_t *) (m[1] + pg) - n;

		for (t = 0; t < ntables; t++)
		{
			const VecxKernels *k = tables[t];
			float		x,
						y,
						z,
						out[1024];
			vecx_half	hout[1024];

			/* a fault kills the test; reaching the check is the pass */
			k->l2sq_f32(fa, fb, n);
			k->dot_f32(fa, fb, n);
			k->cos_f32(fa, fb, n, &x, &y, &z);
			k->l1_f32(fa, fb, n);
			k->l2sq_f16(ha, hb, n);
			k->dot_f16(ha, hb, n);
			k->cos_f16(ha, hb, n, &x, &y, &z);
			k->l1_f16(ha, hb, n);
			k->f16_to_f32(ha, out, n);
			k->f32_to_f16(fa, hout, n);
			k->l2sq_sq8(fb, ca, 0.5f, 0.25f, n);
			k->dot_sq8(fb, ca, n);
			k->l1_sq8(fb, ca, 0.5f, 0.25f, n);
			k->dot_u8(ca, cb, n);
			k->l1_sq8_sym(ca, 0.5f, 0.25f, cb, -0.5f, 2.0f, n);
			CHECK(1, "bounds");
		}
	}
	munmap(m[0], 2 * pg);
	munmap(m[1], 2 * pg);
}

/* ---------- sq8 kernels ---------- */

#define SQ8_MAXDIM 66000

/*
 * One sq8 case: q against codes a (lo, scale) for l2sq/l1, qd against a
 * for dot_sq8, a (alo, ascale) against b (blo, bscale) for l1_sq8_sym.
 */
typedef struct Sq8Case
{
	const float *q;
	const float *qd;
	const uint8_t *a;
	const uint8_t *b;
	float		lo,
				scale,
				alo,
				ascale,
				blo,
				bscale;
	int			n;
} Sq8Case;

/*
 * Reference values in double, with the bound on how far two binary32
 * results may lie apart.  Beyond the summation error of tolerance(), the
 * dequantized value lo + scale * c is rounded (twice in the scalar code,
 * once with a fused multiply-add), which moves each difference d by up to
 * e = 3u (|q| + |lo| + |scale c|); that moves d^2 by e (2|d| + e) and |d|
 * by e, which is not small relative to d^2 when q is close to the value
 * (cancellation), so those per-term bounds are added on top.
 */
typedef struct Sq8Ref
{
	double		l2,
				l2tol,
				dot,
				dottol,
				l1,
				l1tol,
				sym,
				symtol;
} Sq8Ref;

static double
sq8_tol(int n, double s, double e)
{
	return 2.0 * ((n + 16) * U32 * (s + e) + e) + n * ldexp(1.0, -140);
}

static void
ref_sq8(const Sq8Case *k, Sq8Ref *r)
{
	double		l2s = 0,
				l2e = 0,
				dots = 0,
				l1e = 0,
				syme = 0;
	int			i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < k->n; i++)
	{
		double		q = k->q[i];
		double		v = (double) k->lo + (double) k->scale * k->a[i];
		double		d = q - v;
		double		e = 3 * U32 * (fabs(q) + fabs(k->lo) + fabs((double) k->scale * k->a[i]));
		double		va = (double) k->alo + (double) k->ascale * k->a[i];
		double		vb = (double) k->blo + (double) k->bscale * k->b[i];
		double		es = 3 * U32 * (fabs(k->alo) + fabs((double) k->ascale * k->a[i]) +
								   fabs(k->blo) + fabs((double) k->bscale * k->b[i]));

		r->l2 += d * d;
		l2s += d * d;
		l2e += e * (2 * fabs(d) + e);
		r->l1 += fabs(d);
		l1e += e;
		r->dot += (double) k->qd[i] * k->a[i];
		dots += fabs((double) k->qd[i] * k->a[i]);
		r->sym += fabs(va - vb);
		syme += es;
	}
	r->l2tol = sq8_tol(k->n, l2s, l2e);
	r->l1tol = sq8_tol(k->n, r->l1, l1e);
	r->dottol = tolerance(k->n, dots);
	r->symtol = sq8_tol(k->n, r->sym, syme);
}

/*
 * exact: the data are small dyadic numbers whose every partial sum is
 * exact in binary32, so every table must give the double reference
 * exactly (catches a dropped, doubled, misaligned or sign-extended code
 * at any n, where the rounding tolerance alone could not).
 */
static void
sq8_check(const VecxKernels *t, const char *kern, const Sq8Case *k,
		  float v, float s, double ref, double tol, int exact,
		  const char *what)
{
	if (exact)
	{
		CHECK((double) v == ref, "%s %s %s n=%d: %.9g, exact %.17g",
			  t->name, kern, what, k->n, v, ref);
		return;
	}
	CHECK(close_enough(v, ref, tol / 2), "%s %s %s n=%d: %.9g vs %.17g (tol %.3g)",
		  t->name, kern, what, k->n, v, ref, tol / 2);
	if (t != &vecx_kernels_scalar)
		CHECK(close_enough(v, s, tol), "%s %s %s n=%d: %.9g vs scalar %.9g (tol %.3g)",
			  t->name, kern, what, k->n, v, s, tol);
}

static void
check_sq8_case(const Sq8Case *k, int exact, const char *what)
{
	const VecxKernels *sc = &vecx_kernels_scalar;
	Sq8Ref		r;
	float		s_l2,
				s_dot,
				s_l1,
				s_sym;
	uint64_t	u8ref = 0;
	int			t,
				i;

	ref_sq8(k, &r);
	for (i = 0; i < k->n; i++)
		u8ref += (uint64_t) k->a[i] * k->b[i];
	s_l2 = sc->l2sq_sq8(k->q, k->a, k->lo, k->scale, k->n);
	s_dot = sc->dot_sq8(k->qd, k->a, k->n);
	s_l1 = sc->l1_sq8(k->q, k->a, k->lo, k->scale, k->n);
	s_sym = sc->l1_sq8_sym(k->a, k->alo, k->ascale, k->b, k->blo, k->bscale, k->n);

	for (t = 0; t < ntables; t++)
	{
		const VecxKernels *tb = tables[t];
		uint32_t	u;

		sq8_check(tb, "l2sq_sq8", k, tb->l2sq_sq8(k->q, k->a, k->lo, k->scale, k->n),
				  s_l2, r.l2, r.l2tol, exact, what);
		sq8_check(tb, "dot_sq8", k, tb->dot_sq8(k->qd, k->a, k->n),
				  s_dot, r.dot, r.dottol, exact, what);
		sq8_check(tb, "l1_sq8", k, tb->l1_sq8(k->q, k->a, k->lo, k->scale, k->n),
				  s_l1, r.l1, r.l1tol, exact, what);
		sq8_check(tb, "l1_sq8_sym", k,
				  tb->l1_sq8_sym(k->a, k->alo, k->ascale, k->b, k->blo, k->bscale, k->n),
				  s_sym, r.sym, r.symtol, exact, what);
		/* dot_u8 is integer arithmetic: always bit-exact */
		u = tb->dot_u8(k->a, k->b, k->n);
		CHECK(u == u8ref, "%s dot_u8 %s n=%d: %u, exact %llu", tb->name, what,
			  k->n, u, (unsigned long long) u8ref);
	}
}

enum
{
	Q_EXACT,					/* small dyadic values: exact sums */
	Q_UNIT,						/* values in [-1, 1] */
	Q_NEGLO,					/* negative lo, scale 0 */
	Q_LARGE,					/* lo, scale, q around 1e15 */
	Q_TINY,						/* squares near the subnormal range */
	Q_CANCEL,					/* q equal to or next to the code values */
	Q_COUNT
};

static const char *const sq8_names[] = {
	"exact", "unit", "neglo", "large", "tiny", "cancel"
};

static float
pick(const float *v, int nv)
{
	return v[rng() % nv];
}

/* Fill q, qd, a, b (length n) and the parameters for one regime. */
static void
gen_sq8(int regime, int n, Sq8Case *k, float *q, float *qd, uint8_t *a,
		uint8_t *b)
{
	static const float fine[] = {0.25f, 0.5f, 1.0f, 2.0f};
	int			i;

	for (i = 0; i < n; i++)
	{
		a[i] = (uint8_t) rng();
		b[i] = (uint8_t) rng();
	}
	switch (regime)
	{
		case Q_EXACT:
			{
				/* every |qd * a| sum and partial sum below 2^24 */
				int			kq = 16777215 / (255 * (n > 0 ? n : 1));

				if (kq > 64)
					kq = 64;
				k->scale = pick(fine, 4);
				k->lo = (float) ((int) (rng() % 201) - 100);
				/* |d| <= 8: sum of squares <= 64 n */
				for (i = 0; i < n; i++)
				{
					q[i] = k->lo + k->scale * a[i] + (float) ((int) (rng() % 17) - 8);
					qd[i] = (float) ((int) (rng() % (2 * kq + 1)) - kq);
				}
				/*
				 * |va - vb| <= 64 + 510 in steps of the smaller scale: the sum
				 * stays below 2^24 steps with scales down to 1/4 up to n =
				 * 7,000, and with scale 1 up to 29,000
				 */
				k->ascale = n <= 7000 ? pick(fine, 3) : 1.0f;
				k->bscale = n <= 7000 ? pick(fine, 3) : 1.0f;
				k->alo = (float) ((int) (rng() % 65) - 32);
				k->blo = (float) ((int) (rng() % 65) - 32);
				break;
			}
		case Q_UNIT:
			k->lo = (float) rng_uniform(-1, 1);
			k->scale = (float) rng_uniform(0, 2.0 / 255);
			for (i = 0; i < n; i++)
			{
				q[i] = (float) rng_uniform(k->lo - 0.5, k->lo + 255 * k->scale + 0.5);
				qd[i] = (float) rng_uniform(-1, 1);
			}
			k->alo = (float) rng_uniform(-1, 1);
			k->ascale = (float) rng_uniform(0, 2.0 / 255);
			k->blo = (float) rng_uniform(-1, 1);
			k->bscale = (float) rng_uniform(0, 2.0 / 255);
			break;
		case Q_NEGLO:
			k->lo = (float) -rng_uniform(1, 100);
			k->scale = 0.0f;
			for (i = 0; i < n; i++)
			{
				q[i] = (float) rng_uniform(-200, 100);
				qd[i] = (float) rng_uniform(-100, 100);
			}
			k->alo = (float) -rng_uniform(1, 100);
			k->ascale = 0.0f;
			k->blo = (float) -rng_uniform(1, 100);
			k->bscale = (float) rng_uniform(0, 1);
			break;
		case Q_LARGE:
			k->lo = (float) (((rng() & 1) ? -1 : 1) * rng_uniform(1e14, 1e15));
			k->scale = (float) rng_uniform(0, 1e13);
			for (i = 0; i < n; i++)
			{
				q[i] = (float) rng_uniform(-4e15, 4e15);
				qd[i] = (float) rng_uniform(-1e30, 1e30);
			}
			k->alo = (float) (((rng() & 1) ? -1 : 1) * rng_uniform(1e14, 1e15));
			k->ascale = (float) rng_uniform(0, 1e13);
			k->blo = (float) (((rng() & 1) ? -1 : 1) * rng_uniform(1e14, 1e15));
			k->bscale = (float) rng_uniform(0, 1e13);
			break;
		case Q_TINY:
			k->lo = (float) rng_uniform(-1e-20, 1e-20);
			k->scale = (float) rng_uniform(0, 1e-22);
			for (i = 0; i < n; i++)
			{
				q[i] = (float) rng_uniform(-3e-20, 3e-20);
				qd[i] = (float) rng_uniform(-1e-30, 1e-30);
			}
			k->alo = (float) rng_uniform(-1e-20, 1e-20);
			k->ascale = (float) rng_uniform(0, 1e-22);
			k->blo = (float) rng_uniform(-1e-20, 1e-20);
			k->bscale = (float) rng_uniform(0, 1e-22);
			break;
		default:
			k->lo = (float) rng_uniform(-10, 10);
			k->scale = (float) rng_uniform(0, 0.1);
			for (i = 0; i < n; i++)
			{
				float		v = (float) ((double) k->lo + (double) k->scale * a[i]);

				q[i] = (rng() & 1) ? v : nextafterf(v, (rng() & 1) ? INFINITY : -INFINITY);
				qd[i] = (float) rng_uniform(-1000, 1000);
				b[i] = a[i];
			}
			k->alo = (float) rng_uniform(-10, 10);
			k->ascale = (float) rng_uniform(0, 0.1);
			k->blo = nextafterf(k->alo, INFINITY);
			k->bscale = k->ascale * (1.0f + 1e-6f);
			break;
	}
}

static void
test_sq8(void)
{
	static float q[SQ8_MAXDIM + 8],
				qd[SQ8_MAXDIM + 8];
	static uint8_t a[SQ8_MAXDIM + 8],
				b[SQ8_MAXDIM + 8];
	static const int big[] = {784, 1536, 16000};
	long		before = unit_passed + unit_failed;
	int			idx,
				regime,
				t,
				n;

	for (idx = 0; idx <= 300 + 3; idx++)
	{
		n = idx <= 300 ? idx : big[idx - 301];
		for (regime = 0; regime < Q_COUNT; regime++)
		{
			/* unaligned starts: codes 0..3 bytes, queries 0..3 floats */
			int			offa = (n + regime) % 4,
						offb = (n + regime + 1 + n / 4) % 4,
						offq = (n / 4 + regime) % 4;
			Sq8Case		k;
			char		what[48];

			snprintf(what, sizeof(what), "%s/a+%d/b+%d/q+%d",
					 sq8_names[regime], offa, offb, offq);
			gen_sq8(regime, n, &k, q + offq, qd + offq, a + offa, b + offb);
			k.q = q + offq;
			k.qd = qd + offq;
			k.a = a + offa;
			k.b = b + offb;
			k.n = n;
			check_sq8_case(&k, regime == Q_EXACT, what);
		}
	}

	/* dot_u8 at its documented limit: 255 * 255 * 66,000 < 2^32 */
	memset(a, 255, sizeof(a));
	memset(b, 255, sizeof(b));
	for (t = 0; t < ntables; t++)
	{
		const VecxKernels *tb = tables[t];

		CHECK(tb->dot_u8(a, b, 16000) == 255u * 255u * 16000u,
			  "%s dot_u8 all 255 n=16000: %u", tb->name, tb->dot_u8(a, b, 16000));
		CHECK(tb->dot_u8(a + 1, b + 3, 66000) == 4291650000u,
			  "%s dot_u8 all 255 n=66000: %u", tb->name, tb->dot_u8(a + 1, b + 3, 66000));
	}
	/* random codes at 66,000 */
	for (n = 0; n < SQ8_MAXDIM; n++)
	{
		a[n] = (uint8_t) rng();
		b[n] = (uint8_t) rng();
	}
	for (t = 0; t < ntables; t++)
	{
		uint64_t	r = 0;

		for (n = 0; n < 66000 - 2; n++)
			r += (uint64_t) a[2 + n] * b[1 + n];
		CHECK(tables[t]->dot_u8(a + 2, b + 1, 66000 - 2) == r,
			  "%s dot_u8 random n=65998", tables[t]->name);
	}
	printf("sq8 kernels, dims 0..300 + 784, 1536, 16000, %d regimes, %d tables: %ld checks\n",
		   Q_COUNT, ntables, unit_passed + unit_failed - before);
}

/* Overflow gives inf, NaN propagates, n = 0 is an empty sum. */
static void
test_sq8_special(void)
{
	static float q[256];
	static uint8_t c[256];
	int			n,
				t,
				i;

	for (i = 0; i < 256; i++)
	{
		q[i] = 3e38f;
		c[i] = (uint8_t) (i * 37);
	}
	for (n = 1; n <= 256; n++)
	{
		for (t = 0; t < ntables; t++)
		{
			const VecxKernels *k = tables[t];

			CHECK(k->l2sq_sq8(q, c, -3e38f, 0.0f, n) == INFINITY, "%s l2sq_sq8 overflow n=%d", k->name, n);
			CHECK(k->l1_sq8(q, c, -3e38f, 0.0f, n) == INFINITY, "%s l1_sq8 overflow n=%d", k->name, n);
			CHECK(k->l1_sq8_sym(c, 3e38f, 0.0f, c, -3e38f, 0.0f, n) == INFINITY, "%s l1_sq8_sym overflow n=%d", k->name, n);
			i = (int) (rng() % n);
			q[i] = NAN;
			CHECK(isnan(k->l2sq_sq8(q, c, 0.0f, 1.0f, n)), "%s l2sq_sq8 nan n=%d", k->name, n);
			CHECK(isnan(k->dot_sq8(q, c, n)), "%s dot_sq8 nan n=%d", k->name, n);
			CHECK(isnan(k->l1_sq8(q, c, 0.0f, 1.0f, n)), "%s l1_sq8 nan n=%d", k->name, n);
			q[i] = 3e38f;
			CHECK(isnan(k->l1_sq8_sym(c, NAN, 1.0f, c, 0.0f, 1.0f, n)), "%s l1_sq8_sym nan n=%d", k->name, n);
		}
	}
	for (t = 0; t < ntables; t++)
	{
		const VecxKernels *k = tables[t];

		CHECK(k->l2sq_sq8(q, c, 5.0f, 1.0f, 0) == 0 && k->dot_sq8(q, c, 0) == 0 &&
			  k->l1_sq8(q, c, 5.0f, 1.0f, 0) == 0 && k->dot_u8(c, c, 0) == 0 &&
			  k->l1_sq8_sym(c, 5.0f, 1.0f, c, -5.0f, 1.0f, 0) == 0,
			  "%s sq8 n=0", k->name);
	}
}

/* ---------- conversions ---------- */

static void
test_h2f(void)
{
	static vecx_half all[65536 + 64];
	static float out[65536 + 64];
	uint32_t	h;
	int			t,
				n,
				i;

	/* exhaustive: the scalar helper against the definition */
	for (h = 0; h < 65536; h++)
	{
		float		f = vecx_half_to_float((vecx_half) h);
		double		r = ref_h2d((uint16_t) h);

		all[h] = (vecx_half) h;
		if (isnan(r))
			CHECK(isnan(f) && (signbit(f) != 0) == ((h & 0x8000) != 0),
				  "h2f %04x: nan expected", h);
		else
			CHECK((double) f == r && (signbit(f) != 0) == ((h & 0x8000) != 0),
				  "h2f %04x: %.9g vs %.17g", h, f, r);
	}
	/* every table, whole range at once, bit-identical (NaN payloads too) */
	for (t = 0; t < ntables; t++)
	{
		int			bad = 0;

		out[65536] = 12345.0f;
		tables[t]->f16_to_f32(all, out, 65536);
		for (h = 0; h < 65536; h++)
			if (fbits(out[h]) != fbits(vecx_half_to_float((vecx_half) h)))
			{
				if (bad++ < 5)
					fprintf(stderr, "%s f16_to_f32 %04x: %08x\n",
							tables[t]->name, h, fbits(out[h]));
			}
		CHECK(bad == 0 && out[65536] == 12345.0f,
			  "%s f16_to_f32 exhaustive: %d wrong", tables[t]->name, bad);
		/* lengths 0..80 at odd offsets: tails, and no write past n */
		for (n = 0; n <= 80; n++)
		{
			int			off = n % 5;

			for (i = 0; i < n + 8; i++)
				out[i] = -7.0f;
			tables[t]->f16_to_f32(all + (797 * n) % 65000 + off, out, n);
			bad = 0;
			for (i = 0; i < n; i++)
				bad += fbits(out[i]) != fbits(vecx_half_to_float(all[(797 * n) % 65000 + off + i]));
			for (; i < n + 8; i++)
				bad += out[i] != -7.0f;
			CHECK(bad == 0, "%s f16_to_f32 n=%d", tables[t]->name, n);
		}
	}
}

/* Compare the scalar helper with the reference, and every table with it. */
static void
check_f2h_array(const float *src, int n, const char *what)
{
	static vecx_half out[(1 << 20) + 1];
	int			i,
				t,
				bad = 0;

	for (i = 0; i < n; i++)
	{
		uint16_t	h = vecx_float_to_half(src[i]);
		uint16_t	r = ref_f2h(src[i]);
		int			ok;

		if (isnan(src[i]))
			ok = half_is_nan(h) && (h & 0x8000) == (r & 0x8000);
		else
			ok = h == r;
		if (!ok && bad++ < 5)
			fprintf(stderr, "f2h %s %08x (%.9g): %04x, expected %04x\n",
					what, fbits(src[i]), src[i], h, r);
	}
	CHECK(bad == 0, "float_to_half %s: %d of %d wrong", what, bad, n);

	for (t = 0; t < ntables; t++)
	{
		bad = 0;
		out[n] = 0xabcd;
		tables[t]->f32_to_f16(src, out, n);
		for (i = 0; i < n; i++)
			if (out[i] != vecx_float_to_half(src[i]) && bad++ < 5)
				fprintf(stderr, "%s f32_to_f16 %s %08x: %04x vs %04x\n",
						tables[t]->name, what, fbits(src[i]), out[i],
						vecx_float_to_half(src[i]));
		CHECK(bad == 0 && out[n] == 0xabcd, "%s f32_to_f16 %s: %d wrong",
			  tables[t]->name, what, bad);
	}
}

static void
test_f2h(void)
{
	static float buf[1 << 20];
	int			n = 0,
				i;
	uint32_t	h,
				u;

	/* every half value round-trips; midpoints between neighbours tie */
	for (h = 0; h < 0x7c00; h++)
	{
		double		v = ref_h2d((uint16_t) h);
		double		next = ref_h2d((uint16_t) (h + 1));	/* 0x7c00: inf */
		double		mid = (h == 0x7bff) ? 65520.0 : (v + next) / 2;
		int			s;

		for (s = 0; s < 2; s++)
		{
			float		sg = s ? -1.0f : 1.0f;

			buf[n++] = sg * (float) v;
			buf[n++] = sg * (float) mid;	/* exact in binary32 */
			buf[n++] = sg * nextafterf((float) mid, 0.0f);
			buf[n++] = sg * nextafterf((float) mid, INFINITY);
		}
	}
	check_f2h_array(buf, n, "halves+midpoints");

	/* specials */
	n = 0;
	buf[n++] = INFINITY;
	buf[n++] = -INFINITY;
	buf[n++] = NAN;
	buf[n++] = -NAN;
	buf[n++] = bitsf(0x7f800001);	/* signalling NaN */
	buf[n++] = bitsf(0xffbfffff);
	buf[n++] = FLT_MAX;
	buf[n++] = -FLT_MAX;
	buf[n++] = FLT_MIN;
	buf[n++] = bitsf(1);		/* smallest subnormal */
	buf[n++] = 65504.0f;
	buf[n++] = 65519.99f;
	buf[n++] = 65520.0f;
	buf[n++] = 1e5f;
	buf[n++] = ldexpf(1.0f, -25);	/* tie between 0 and 2^-24: 0 */
	buf[n++] = ldexpf(1.5f, -25);	/* above the tie: 2^-24 */
	buf[n++] = ldexpf(3.0f, -25);	/* tie 2^-24 / 2^-23: even, 2^-23 */
	buf[n++] = ldexpf(1.0f, -14) - ldexpf(1.0f, -25);	/* to min normal */
	buf[n++] = 0.0f;
	buf[n++] = -0.0f;
	check_f2h_array(buf, n, "specials");
	CHECK(vecx_float_to_half(65520.0f) == 0x7c00, "65520 -> inf");
	CHECK(vecx_float_to_half(ldexpf(1.0f, -25)) == 0, "2^-25 -> 0 (tie to even)");
	CHECK(vecx_float_to_half(ldexpf(3.0f, -25)) == 2, "3*2^-25 -> 2^-23 (tie to even)");
	CHECK(vecx_float_to_half(1.0f + ldexpf(1.0f, -11)) == 0x3c00, "1+2^-11 -> 1 (tie to even)");
	CHECK(vecx_float_to_half(1.0f + ldexpf(3.0f, -11)) == 0x3c02, "1+3*2^-11 -> 1+2^-9 (tie to even)");

	/* random bit patterns (all classes) */
	for (i = 0; i < (1 << 20); i++)
		buf[i] = bitsf((uint32_t) rng());
	check_f2h_array(buf, 1 << 20, "random bits");

	/* a strided sweep over every float bit pattern */
	n = 0;
	for (u = 0; u < 0xfffff000u; u += 4099)
	{
		buf[n++] = bitsf(u);
		if (n == (1 << 20))
		{
			check_f2h_array(buf, n, "sweep");
			n = 0;
		}
	}
	check_f2h_array(buf, n, "sweep");

	/* tails and odd lengths */
	for (n = 0; n <= 80; n++)
	{
		for (i = 0; i < n; i++)
			buf[i] = (float) rng_uniform(-70000, 70000);
		check_f2h_array(buf, n, "short");
	}
}

static void
test_select(void)
{
	const VecxKernels *best = vecx_simd_best();
	int			i;

	CHECK(vecx_simd_select(1) == &vecx_kernels_scalar &&
		  vecx_kernels == &vecx_kernels_scalar, "select(1) gives scalar");
	CHECK(vecx_simd_select(0) == best && vecx_kernels == best,
		  "select(0) gives best");
	CHECK(vecx_simd_supported(best), "best is supported");
	CHECK(best == tables[ntables - 1] ||
		  (ntables == 3 && best == vecx_kernels_avx512),
		  "best is the widest supported table");
#if defined(__x86_64__)
	CHECK(vecx_kernels_avx2 != NULL && vecx_kernels_avx512 != NULL,
		  "x86-64 tables compiled in");
	CHECK(!__builtin_cpu_supports("avx512f") || best != &vecx_kernels_scalar,
		  "a vector table is chosen on an AVX-512 CPU");
#endif
	printf("tables: best=%s, tested:", best->name);
	for (i = 0; i < ntables; i++)
		printf(" %s", tables[i]->name);
	printf("\n");
}

int
main(void)
{
	if (fesetround(FE_TONEAREST) != 0)
		return 2;
	collect_tables();
	test_select();
	test_h2f();
	test_f2h();
	test_special_values();
	test_bounds();
	test_distances();
	test_sq8_special();
	test_sq8();
	test_parse();
	test_popcount();
	printf("unit: %ld passed, %ld failed\n", unit_passed, unit_failed);
	return unit_failed == 0 ? 0 : 1;
}
