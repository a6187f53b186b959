/* SPDX-License-Identifier: MIT */
/* The program's messages to the user: one line each on stderr. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "host.h"

void say(const char *level, const char *fmt, ...)
{
	va_list ap;

	fputs("onnxpass: ", stderr);
	if (level)
		fprintf(stderr, "%s: ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
