/*-------------------------------------------------------------------------
 *
 * fmnist.c
 *	  Print Fashion-MNIST (Debian's dataset-fashion-mnist) as COPY text.
 *
 * Usage: fmnist {train|test} [limit [offset]] [--dir DIR]
 * Output, one row per image:  id <TAB> label <TAB> [p0,p1,...,p783]
 * Pixels are printed as the raw 0..255 integers so the data round-trips
 * exactly through float4 and exact ground truth is reproducible anywhere.
 * The id is the image's 1-based position in its file.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *
read_gz(const char *path, size_t *len)
{
	char		cmd[4096];
	FILE	   *f;
	size_t		cap = 1 << 20,
				n = 0,
				r;
	unsigned char *buf = malloc(cap);

	snprintf(cmd, sizeof(cmd), "gzip -dc '%s'", path);
	f = popen(cmd, "r");
	if (f == NULL || buf == NULL)
	{
		perror(path);
		exit(1);
	}
	while ((r = fread(buf + n, 1, cap - n, f)) > 0)
	{
		n += r;
		if (n == cap)
		{
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
			{
				perror("realloc");
				exit(1);
			}
		}
	}
	if (pclose(f) != 0 || n < 16)
	{
		fprintf(stderr, "fmnist: cannot read %s\n", path);
		exit(1);
	}
	*len = n;
	return buf;
}

static unsigned
be32(const unsigned char *p)
{
	return ((unsigned) p[0] << 24) | ((unsigned) p[1] << 16) | ((unsigned) p[2] << 8) | p[3];
}

int
main(int argc, char **argv)
{
	const char *dir = "/usr/share/datasets/fashion-mnist";
	const char *set = NULL;
	long		limit = -1,
				offset = 0;
	int			pos = 0;
	char		ipath[4096],
				lpath[4096];
	unsigned char *img,
			   *lab;
	size_t		ilen,
				llen;
	unsigned	count,
				rows,
				cols;
	long		i;

	for (int a = 1; a < argc; a++)
	{
		if (strcmp(argv[a], "--dir") == 0 && a + 1 < argc)
			dir = argv[++a];
		else if (pos == 0)
			set = argv[a], pos++;
		else if (pos == 1)
			limit = atol(argv[a]), pos++;
		else if (pos == 2)
			offset = atol(argv[a]), pos++;
	}
	if (set == NULL || (strcmp(set, "train") != 0 && strcmp(set, "test") != 0))
	{
		fprintf(stderr, "usage: fmnist {train|test} [limit [offset]] [--dir DIR]\n");
		return 2;
	}
	snprintf(ipath, sizeof(ipath), "%s/%s-images-idx3-ubyte.gz", dir,
			 strcmp(set, "train") == 0 ? "train" : "t10k");
	snprintf(lpath, sizeof(lpath), "%s/%s-labels-idx1-ubyte.gz", dir,
			 strcmp(set, "train") == 0 ? "train" : "t10k");
	img = read_gz(ipath, &ilen);
	lab = read_gz(lpath, &llen);
	if (be32(img) != 2051 || be32(lab) != 2049)
	{
		fprintf(stderr, "fmnist: bad magic\n");
		return 1;
	}
	count = be32(img + 4);
	rows = be32(img + 8);
	cols = be32(img + 12);
	if ((size_t) count * rows * cols + 16 > ilen || count + 8 > llen)
	{
		fprintf(stderr, "fmnist: truncated file\n");
		return 1;
	}
	if (limit < 0 || offset + limit > (long) count)
		limit = (long) count - offset;
	for (i = offset; i < offset + limit; i++)
	{
		const unsigned char *p = img + 16 + (size_t) i * rows * cols;

		printf("%ld\t%u\t[", i + 1, lab[8 + i]);
		for (unsigned j = 0; j < rows * cols; j++)
			printf(j ? ",%u" : "%u", p[j]);
		fputs("]\n", stdout);
	}
	return 0;
}
