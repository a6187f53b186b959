/* SPDX-License-Identifier: MIT */
/* A small TAP producer for the C unit tests: plan, ok, is_*, diag, skip. */
#ifndef ONNXPASS_TAP_H
#define ONNXPASS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_run, tap_failed, tap_planned;

static void plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static int ok_(int cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int ok_(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) ok_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* expected value first, like the rest of the house */
#define is_int(expected, got, ...)                                                  \
	do {                                                                        \
		long long e_ = (long long)(expected), g_ = (long long)(got);        \
		if (!ok_(e_ == g_, __FILE__, __LINE__, __VA_ARGS__))                \
			printf("#   expected %lld, got %lld\n", e_, g_);              \
	} while (0)

#define is_str(expected, got, ...)                                                  \
	do {                                                                        \
		const char *e_ = (expected), *g_ = (got);                           \
		if (!ok_(e_ && g_ && !strcmp(e_, g_), __FILE__, __LINE__, __VA_ARGS__)) \
			printf("#   expected '%s', got '%s'\n", e_ ? e_ : "(null)",   \
			       g_ ? g_ : "(null)");                                   \
	} while (0)

/* err contains the substring want */
#define like(want, err, ...)                                                        \
	do {                                                                        \
		const char *w_ = (want), *s_ = (err);                               \
		if (!ok_(s_ && strstr(s_, w_) != NULL, __FILE__, __LINE__, __VA_ARGS__)) \
			printf("#   wanted '%s' in '%s'\n", w_, s_ ? s_ : "(null)");  \
	} while (0)

static void skip_all(const char *why) __attribute__((noreturn, unused));
static void skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

static int done_testing(void) __attribute__((unused));
static int done_testing(void)
{
	if (tap_run != tap_planned)
		printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
	return tap_failed || tap_run != tap_planned ? 1 : 0;
}

#endif
