/* Aligned columns for human output: every column as wide as its widest cell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/slopnctl.h"

struct table {
	int cols;
	size_t rows;
	char **cell; /* rows * cols */
};

struct table *table_new(int cols, const char *const *head)
{
	struct table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cols = cols;
	table_row(t, head);
	return t;
}

void table_row(struct table *t, const char *const *cells)
{
	if (!t)
		return;
	char **c = realloc(t->cell, (t->rows + 1) * (size_t)t->cols * sizeof(*c));
	if (!c)
		return;
	t->cell = c;
	for (int i = 0; i < t->cols; i++)
		c[t->rows * (size_t)t->cols + (size_t)i] = strdup(cells[i] ? cells[i] : "-");
	t->rows++;
}

void table_print(struct table *t, FILE *f)
{
	if (!t)
		return;
	int *w = calloc((size_t)t->cols, sizeof(*w));
	if (!w)
		return;
	for (size_t r = 0; r < t->rows; r++)
		for (int c = 0; c < t->cols; c++) {
			const char *s = t->cell[r * (size_t)t->cols + (size_t)c];
			if (s && (int)strlen(s) > w[c])
				w[c] = (int)strlen(s);
		}
	for (size_t r = 0; r < t->rows; r++)
		for (int c = 0; c < t->cols; c++) {
			const char *s = t->cell[r * (size_t)t->cols + (size_t)c];
			if (c == t->cols - 1)
				fprintf(f, "%s\n", s ? s : "");
			else
				fprintf(f, "%-*s  ", w[c], s ? s : "");
		}
	free(w);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->rows * (size_t)t->cols; i++)
		free(t->cell[i]);
	free(t->cell);
	free(t);
}
