// SPDX-License-Identifier: MIT
/*
 * execstorm.c - the exec storm's load generator: spawns short-lived processes (CHILD, a program that exits at once)
 * from WORKERS threads for SECONDS seconds, either as fast as the machine allows (--rate 0) or paced to RATE spawns
 * per second in total, and counts them itself. Each spawn is posix_spawn + waitpid: when posix_spawn returns the
 * child has exec'd, and when waitpid returns it has exited, so every counted process has passed both
 * sched_process_exec and sched_process_exit by the time the storm ends.
 *
 * Usage: execstorm --duration SECONDS [--rate RATE] [--workers N] CHILD
 * Prints one line: "spawned N in T s" (T measured, not the asked duration).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *g_child;
static double g_duration, g_rate;
static int g_workers = 2;
static uint64_t g_start_ns;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *worker(void *arg)
{
	uint64_t *count = arg;
	uint64_t end = g_start_ns + (uint64_t)(g_duration * 1e9);
	/* paced: this worker's share of the rate, on an absolute schedule; a worker that falls more than 50 ms behind
	 * drops the backlog instead of bursting */
	uint64_t interval = g_rate > 0 ? (uint64_t)(1e9 * g_workers / g_rate) : 0, next = g_start_ns;
	char *argv[] = { (char *)g_child, NULL };
	for (;;) {
		uint64_t t = now_ns();
		if (t >= end) break;
		if (interval) {
			if (t < next) {
				struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
				if (now_ns() >= end) break;
			} else if (t - next > 50000000ull) {
				next = t;
			}
			next += interval;
		}
		pid_t pid;
		int err = posix_spawn(&pid, g_child, NULL, NULL, argv, environ);
		if (err) {
			if (err == EAGAIN) continue;
			fprintf(stderr, "execstorm: posix_spawn %s: %s\n", g_child, strerror(err));
			exit(1);
		}
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
		(*count)++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--duration") && i + 1 < argc) g_duration = atof(argv[++i]);
		else if (!strcmp(argv[i], "--rate") && i + 1 < argc) g_rate = atof(argv[++i]);
		else if (!strcmp(argv[i], "--workers") && i + 1 < argc) g_workers = atoi(argv[++i]);
		else g_child = argv[i];
	}
	if (!g_child || g_duration <= 0 || g_workers <= 0 || g_workers > 256 || g_rate < 0) {
		fprintf(stderr, "usage: execstorm --duration SECONDS [--rate RATE] [--workers N] CHILD\n");
		return 2;
	}
	pthread_t threads[256];
	uint64_t counts[256] = { 0 };
	g_start_ns = now_ns();
	for (int i = 0; i < g_workers; i++)
		if (pthread_create(&threads[i], NULL, worker, &counts[i])) { perror("pthread_create"); return 1; }
	uint64_t total = 0;
	for (int i = 0; i < g_workers; i++) {
		pthread_join(threads[i], NULL);
		total += counts[i];
	}
	printf("spawned %llu in %.3f s\n", (unsigned long long)total, (now_ns() - g_start_ns) / 1e9);
	return 0;
}
