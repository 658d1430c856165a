/*
 * What every fuzz harness shares: the libFuzzer entry point, and a copy of
 * the input with a NUL after it for the functions that take C strings.
 */
#ifndef DUTYD_FUZZ_H
#define DUTYD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string (it may hold NULs before the end). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * The Nth part of the input cut at 0xff bytes (never in UTF-8), as a
 * C string, or "" when there are fewer parts.  Caller frees.
 */
static inline char *
fuzz_part(const uint8_t *data, size_t size, int n)
{
	size_t start = 0, end;

	while (n-- > 0) {
		while (start < size && data[start] != 0xff)
			start++;
		if (start == size)
			return fuzz_cstr(data, 0);
		start++;
	}
	for (end = start; end < size && data[end] != 0xff; end++)
		;
	return fuzz_cstr(data + start, end - start);
}

#endif
