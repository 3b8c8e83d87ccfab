/*-------------------------------------------------------------------------
 *
 * vecparse.h
 *	  Server-independent parser for the vector text form "[1, 2.5, -3e2]".
 *
 * The parser is plain C with no PostgreSQL dependency so the fuzz harness
 * (test/fuzz) and unit tests exercise exactly the code the input functions
 * run.  It never writes to its input.  The caller turns a status into an
 * ereport with the right SQLSTATE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECX_VECPARSE_H
#define VECX_VECPARSE_H

typedef enum VecxParseStatus
{
	VECX_PARSE_OK = 0,
	VECX_PARSE_SYNTAX,			/* malformed text (22P02) */
	VECX_PARSE_EMPTY,			/* "[]" (22000 at least 1 dimension) */
	VECX_PARSE_TOO_MANY,		/* more than maxdim elements (54000) */
	VECX_PARSE_OUT_OF_RANGE,	/* element overflows float4 (22003) */
	VECX_PARSE_NOT_FINITE		/* NaN or Infinity written literally (22000) */
} VecxParseStatus;

/*
 * Parse str (NUL-terminated) into out[0..maxdim-1].  On VECX_PARSE_OK,
 * *ndim is the number of elements.  On failure, *errpos points into str at
 * the offending element or character (for the error message).
 */
extern VecxParseStatus vecx_parse_vector(const char *str, float *out,
										 int maxdim, int *ndim,
										 const char **errpos);

/*
 * Exactly what strtof(p, end) returns, for the decimal forms with at most
 * a few significant digits that clients print most; returns 0 (and
 * touches nothing) for every other form, which the caller hands to
 * strtof.  Exposed for the unit and fuzz tests, which compare the two.
 */
extern int	vecx_parse_float_fast(const char *p, float *val, const char **end);

/* Tests may turn the fast path off to compare against strtof alone. */
extern int	vecx_parse_fast_enabled;

#endif							/* VECX_VECPARSE_H */
