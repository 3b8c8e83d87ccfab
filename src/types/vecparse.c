/*-------------------------------------------------------------------------
 *
 * vecparse.c
 *	  Server-independent parser for the vector text form "[1, 2.5, -3e2]".
 *
 * Grammar: optional whitespace, '[', one or more elements separated by
 * ',', ']', optional whitespace, end of string.  Whitespace may surround
 * every element.  Elements are whatever strtof() accepts; strtof() is
 * locale-dependent, which is fine because the server always runs with
 * LC_NUMERIC=C.
 *
 * The input is only ever read: an input function that scribbled on its
 * argument once broke logical replication for another extension.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <math.h>
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
		char	   *end;
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

		out[dim++] = val;

		p = skip_space(end);
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
