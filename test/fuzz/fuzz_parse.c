/*-------------------------------------------------------------------------
 *
 * fuzz_parse.c
 *	  libFuzzer harness for vecx_parse_vector (src/types/vecparse.c).
 *
 * The first input byte picks maxdim; the rest is the text.  The output
 * array is malloc'd with exactly maxdim floats so AddressSanitizer catches
 * any write past it.  Invariants checked (abort on violation):
 *	- the input text is never modified;
 *	- the status is one of the enum values;
 *	- OK => 1 <= ndim <= maxdim and every value is finite;
 *	- not OK => errpos points into the text (or at its terminating NUL);
 *	- parsing is deterministic;
 *	- OK => printing the values with %.9g and parsing that again gives OK
 *	  with bit-identical values (round trip).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/vecparse.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int maxdims[8] = {1, 2, 3, 4, 16, 100, 1000, 16000};

#define FAIL(...) \
	do { \
		fprintf(stderr, "invariant violated: " __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int			maxdim,
				ndim = -1,
				ndim2 = -1,
				i;
	char	   *str,
			   *copy;
	float	   *out,
			   *out2;
	const char *errpos = NULL,
			   *errpos2 = NULL;
	VecxParseStatus st,
				st2;
	size_t		len;

	if (size < 1)
		return 0;
	maxdim = maxdims[data[0] & 7];
	len = size - 1;
	str = malloc(len + 1);
	copy = malloc(len + 1);
	memcpy(str, data + 1, len);
	str[len] = '\0';
	memcpy(copy, str, len + 1);
	out = malloc(sizeof(float) * maxdim);
	out2 = malloc(sizeof(float) * maxdim);

	st = vecx_parse_vector(str, out, maxdim, &ndim, &errpos);

	if (memcmp(str, copy, len + 1) != 0)
		FAIL("input modified");
	if ((int) st < VECX_PARSE_OK || (int) st > VECX_PARSE_NOT_FINITE)
		FAIL("bad status %d", (int) st);
	if (st == VECX_PARSE_OK)
	{
		if (ndim < 1 || ndim > maxdim)
			FAIL("ndim %d outside 1..%d", ndim, maxdim);
		for (i = 0; i < ndim; i++)
			if (!isfinite(out[i]))
				FAIL("value %d not finite", i);
	}
	else if (errpos == NULL || errpos < str || errpos > str + strlen(str))
		FAIL("errpos outside the input (status %d)", (int) st);

	/* deterministic */
	st2 = vecx_parse_vector(str, out2, maxdim, &ndim2, &errpos2);
	if (st2 != st)
		FAIL("status changed on reparse");
	if (st == VECX_PARSE_OK)
	{
		if (ndim2 != ndim || memcmp(out, out2, sizeof(float) * ndim) != 0)
			FAIL("values changed on reparse");
	}
	else if (errpos2 != errpos)
		FAIL("errpos changed on reparse");

	/* round trip through the canonical text form */
	if (st == VECX_PARSE_OK)
	{
		size_t		cap = (size_t) ndim * 20 + 3;
		char	   *txt = malloc(cap);
		size_t		pos = 0;

		txt[pos++] = '[';
		for (i = 0; i < ndim; i++)
			pos += snprintf(txt + pos, cap - pos, "%s%.9g", i ? "," : "",
							(double) out[i]);
		txt[pos++] = ']';
		txt[pos] = '\0';
		st2 = vecx_parse_vector(txt, out2, maxdim, &ndim2, &errpos2);
		if (st2 != VECX_PARSE_OK || ndim2 != ndim)
			FAIL("round trip of \"%s\" gives status %d ndim %d", txt,
				 (int) st2, ndim2);
		for (i = 0; i < ndim; i++)
			if (memcmp(&out[i], &out2[i], sizeof(float)) != 0 &&
				!(out[i] == 0 && out2[i] == 0))
				FAIL("round trip changed value %d: %.9g -> %.9g", i,
					 (double) out[i], (double) out2[i]);
		free(txt);
	}

	/* the fast path for short decimals changes nothing: strtof() alone */
	vecx_parse_fast_enabled = 0;
	st2 = vecx_parse_vector(str, out2, maxdim, &ndim2, &errpos2);
	vecx_parse_fast_enabled = 1;
	if (st2 != st)
		FAIL("status %d without the fast path, %d with it", (int) st2, (int) st);
	if (st == VECX_PARSE_OK)
	{
		if (ndim2 != ndim || memcmp(out, out2, sizeof(float) * ndim) != 0)
			FAIL("values differ without the fast path");
	}
	else if (errpos2 != errpos)
		FAIL("errpos differs without the fast path");

	free(str);
	free(copy);
	free(out);
	free(out2);
	return 0;
}
