/* A wall clock that jumps, for tests/blackbox/test_faults.py, preloaded into the real provgate
 * binary (LD_PRELOAD): CLOCK_REALTIME (clock_gettime, gettimeofday, time) reads the real time
 * plus the signed number of seconds in the file named by $PROVGATE_CLOCK_SHIFT (0 if absent),
 * re-read at most every 10 ms of monotonic time. CLOCK_MONOTONIC and the other clocks are left
 * alone, as a real step of the wall clock (NTP, an operator's `date -s`) leaves them. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static int (*real_clock_gettime)(clockid_t, struct timespec*);

static long long shift_seconds(void) {
  static long long shift = 0;
  static long long next_read_ns = 0;
  struct timespec now;
  real_clock_gettime(CLOCK_MONOTONIC, &now);
  const long long now_ns = now.tv_sec * 1000000000LL + now.tv_nsec;
  if (now_ns >= next_read_ns) {
    long long value = 0;
    const char* path = getenv("PROVGATE_CLOCK_SHIFT");
    FILE* f = path != NULL ? fopen(path, "r") : NULL;
    if (f != NULL) {
      if (fscanf(f, "%lld", &value) != 1) value = 0;
      fclose(f);
    }
    __atomic_store_n(&shift, value, __ATOMIC_RELAXED);
    __atomic_store_n(&next_read_ns, now_ns + 10000000LL, __ATOMIC_RELAXED);
  }
  return __atomic_load_n(&shift, __ATOMIC_RELAXED);
}

static void init(void) {
  if (real_clock_gettime == NULL) {
    real_clock_gettime = (int (*)(clockid_t, struct timespec*))dlsym(RTLD_NEXT, "clock_gettime");
  }
}

int clock_gettime(clockid_t id, struct timespec* ts) {
  init();
  const int rc = real_clock_gettime(id, ts);
  if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) ts->tv_sec += shift_seconds();
  return rc;
}

int gettimeofday(struct timeval* tv, void* tz) {
  init();
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
  if (tv != NULL) {
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  (void)tz;
  return 0;
}

time_t time(time_t* out) {
  init();
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (out != NULL) *out = ts.tv_sec;
  return ts.tv_sec;
}
