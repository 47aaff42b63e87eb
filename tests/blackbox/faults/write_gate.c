/* Fault injection for tests/blackbox/test_faults.py, preloaded into the real provgate binary
 * (LD_PRELOAD): write() to a file whose path ends in $PROVGATE_FAULT_PATH fails, while the file
 * named by $PROVGATE_FAULT_WRITE exists, with the errno number that file holds (30 = EROFS, a
 * volume remounted read-only under a running server; 28 = ENOSPC). Other descriptors (sockets,
 * the database) write as usual. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int injected_errno(int fd) {
  const char* gate = getenv("PROVGATE_FAULT_WRITE");
  const char* suffix = getenv("PROVGATE_FAULT_PATH");
  if (gate == NULL || suffix == NULL) return 0;
  FILE* f = fopen(gate, "r");
  if (f == NULL) return 0;
  int code = 0;
  if (fscanf(f, "%d", &code) != 1) code = EIO;
  fclose(f);
  char link[64];
  char target[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return 0;
  target[n] = '\0';
  const size_t len = strlen(suffix);
  return (size_t)n >= len && strcmp(target + n - len, suffix) == 0 ? code : 0;
}

ssize_t write(int fd, const void* buf, size_t count) {
  static ssize_t (*real)(int, const void*, size_t);
  if (real == NULL) real = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
  const int code = injected_errno(fd);
  if (code != 0) {
    errno = code;
    return -1;
  }
  return real(fd, buf, count);
}
