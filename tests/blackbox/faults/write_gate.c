/* Fault injection for tests/blackbox/test_faults.py, preloaded into the real provgate binary
 * (LD_PRELOAD): while the file named by $PROVGATE_FAULT_WRITE exists, write() to a file whose
 * path ends in $PROVGATE_FAULT_PATH fails with the errno number that file holds (30 = EROFS: a
 * volume remounted read-only under a running server), and so does access(path, W_OK) on such a
 * path. Other descriptors (sockets, the database) write as usual. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The errno the gate file holds if `path` is targeted and the gate is closed, else 0. */
static int injected_for_path(const char* path) {
  const char* gate = getenv("PROVGATE_FAULT_WRITE");
  const char* suffix = getenv("PROVGATE_FAULT_PATH");
  if (gate == NULL || suffix == NULL) return 0;
  const size_t n = strlen(path);
  const size_t len = strlen(suffix);
  if (n < len || strcmp(path + n - len, suffix) != 0) return 0;
  FILE* f = fopen(gate, "r");
  if (f == NULL) return 0;
  int code = 0;
  if (fscanf(f, "%d", &code) != 1) code = EIO;
  fclose(f);
  return code;
}

static int injected_errno(int fd) {
  char link[64];
  char target[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return 0;
  target[n] = '\0';
  return injected_for_path(target);
}

int access(const char* path, int mode) {
  static int (*real)(const char*, int);
  if (real == NULL) real = (int (*)(const char*, int))dlsym(RTLD_NEXT, "access");
  const int code = (mode & W_OK) != 0 ? injected_for_path(path) : 0;
  if (code != 0) {
    errno = code;
    return -1;
  }
  return real(path, mode);
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
