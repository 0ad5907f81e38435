/* example: writes each line of stdin into the ring named by argv[1]
 * (waiting while a lossless ring is full). Built by ringbuf's tests. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "f2bx_ring.h"

int main(int argc, char **argv) {
	struct f2bx_ring r;
	char line[4096];
	if (argc < 2) {
		fprintf(stderr, "usage: %s RING [SEGMENT]\n", argv[0]);
		return 2;
	}
	int err = f2bx_ring_open(&r, argv[1], argc > 2 ? atoi(argv[2]) : -1);
	if (err != 0) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	while (fgets(line, sizeof line, stdin)) {
		size_t n = strcspn(line, "\n");
		while (f2bx_ring_write(&r, line, n) == -EAGAIN) {
			struct timespec ts = {0, 50000};
			nanosleep(&ts, NULL);
		}
	}
	f2bx_ring_close(&r);
	return 0;
}
