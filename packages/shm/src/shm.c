// @rtt/shm: the few system calls Node cannot make — map a POSIX shared-memory segment into an ArrayBuffer that
// two processes share, and park/wake on a 32-bit word in it with a futex (shared, not FUTEX_PRIVATE, so the
// wake crosses processes). Everything else (rings, frames, spinning) is JavaScript in @rtt/fabric.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <node_api.h>

#define CHECK(env, call)                                                     \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      napi_throw_error((env), "RTT_SHM_NAPI", "N-API call failed: " #call);  \
      return NULL;                                                           \
    }                                                                        \
  } while (0)

static napi_value throw_errno(napi_env env, const char* what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, message, error;
  napi_create_string_utf8(env, err == ENOENT ? "ENOENT" : err == EEXIST ? "EEXIST" : err == EACCES ? "EACCES" : "ESHM",
                          NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_value errnum;
  napi_create_int32(env, err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_throw(env, error);
  return NULL;
}

typedef struct {
  void* addr;
  size_t len;
} mapping_t;

static void unmap(napi_env env, void* data, void* hint) {
  (void)env;
  (void)data;
  mapping_t* m = (mapping_t*)hint;
  munmap(m->addr, m->len);
  free(m);
}

static int get_name(napi_env env, napi_value v, char* buf, size_t cap) {
  size_t n = 0;
  if (napi_get_value_string_utf8(env, v, buf, cap, &n) != napi_ok) return -1;
  // POSIX: one leading slash, no others, and not too long.
  if (n < 2 || n >= cap - 1 || buf[0] != '/' || strchr(buf + 1, '/')) return -1;
  return 0;
}

// map(name: string, size: number, create: boolean) → ArrayBuffer over the shared pages (unmapped when collected).
static napi_value Map(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[256];
  if (argc < 3 || get_name(env, argv[0], name, sizeof name) != 0) {
    napi_throw_type_error(env, "RTT_SHM_ARG", "map(name, size, create): name must look like \"/rtt-…\"");
    return NULL;
  }
  int64_t size = 0;
  bool create = false;
  CHECK(env, napi_get_value_int64(env, argv[1], &size));
  CHECK(env, napi_get_value_bool(env, argv[2], &create));
  if (size <= 0 || size > ((int64_t)1 << 32)) {
    napi_throw_range_error(env, "RTT_SHM_ARG", "size must be between 1 byte and 4 GiB");
    return NULL;
  }
  int fd = shm_open(name, O_RDWR | (create ? O_CREAT | O_EXCL : 0), 0600);
  if (fd < 0) return throw_errno(env, "shm_open", errno);
  if (create && ftruncate(fd, (off_t)size) != 0) {
    int e = errno;
    close(fd);
    shm_unlink(name);
    return throw_errno(env, "ftruncate", e);
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < size) {
    int e = errno ? errno : EINVAL;
    close(fd);
    return throw_errno(env, "segment smaller than asked", e);
  }
  void* addr = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int e = errno;
  close(fd);
  if (addr == MAP_FAILED) return throw_errno(env, "mmap", e);
  mapping_t* m = malloc(sizeof *m);
  m->addr = addr;
  m->len = (size_t)size;
  napi_value ab;
  if (napi_create_external_arraybuffer(env, addr, (size_t)size, unmap, m, &ab) != napi_ok) {
    munmap(addr, (size_t)size);
    free(m);
    napi_throw_error(env, "RTT_SHM_NAPI", "external ArrayBuffers are not allowed in this Node (sandboxed pointers)");
    return NULL;
  }
  return ab;
}

static napi_value Unlink(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[256];
  if (argc < 1 || get_name(env, argv[0], name, sizeof name) != 0) {
    napi_throw_type_error(env, "RTT_SHM_ARG", "unlink(name): name must look like \"/rtt-…\"");
    return NULL;
  }
  if (shm_unlink(name) != 0 && errno != ENOENT) return throw_errno(env, "shm_unlink", errno);
  return NULL;
}

// The 32-bit word at byteOffset of an ArrayBuffer, 4-byte aligned and inside it.
static int32_t* word_at(napi_env env, napi_value ab, napi_value off) {
  void* data = NULL;
  size_t len = 0;
  int64_t o = -1;
  if (napi_get_arraybuffer_info(env, ab, &data, &len) != napi_ok || napi_get_value_int64(env, off, &o) != napi_ok ||
      o < 0 || (o & 3) != 0 || (size_t)o + 4 > len) {
    napi_throw_range_error(env, "RTT_SHM_ARG", "byteOffset must be a 4-byte aligned offset inside the buffer");
    return NULL;
  }
  return (int32_t*)((char*)data + o);
}

static long futex_wait(int32_t* addr, int32_t expected, int64_t timeout_us) {
  struct timespec ts, *tp = NULL;
  if (timeout_us >= 0) {
    ts.tv_sec = timeout_us / 1000000;
    ts.tv_nsec = (timeout_us % 1000000) * 1000;
    tp = &ts;
  }
  return syscall(SYS_futex, addr, FUTEX_WAIT, expected, tp, NULL, 0);
}

// 0 woken (or spurious), 1 timed out, 2 the word was not `expected` (no need to sleep).
static int wait_result(long r) {
  if (r == 0) return 0;
  if (errno == ETIMEDOUT) return 1;
  if (errno == EAGAIN) return 2;
  return 0;  // EINTR: report as woken; callers re-check the word anyway
}

// The arguments wait and waitAsync share: (buffer, byteOffset, expected, timeoutMicros). Returns the futex word, or
// NULL with a JS exception pending; the buffer itself goes to *buffer (waitAsync keeps it referenced).
static int32_t* wait_args(napi_env env, napi_callback_info info, const char* usage, napi_value* buffer,
                          int32_t* expected, int64_t* timeout) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, "RTT_SHM_ARG", usage);
    return NULL;
  }
  int32_t* w = word_at(env, argv[0], argv[1]);
  if (!w) return NULL;
  // Not numbers (a missing argument arrives as undefined through the TypeScript wrapper): say what the call takes.
  if (napi_get_value_int32(env, argv[2], expected) != napi_ok || napi_get_value_int64(env, argv[3], timeout) != napi_ok) {
    napi_throw_type_error(env, "RTT_SHM_ARG", usage);
    return NULL;
  }
  *buffer = argv[0];
  return w;
}

// wait(buffer, byteOffset, expected, timeoutMicros) → 0 | 1 | 2. Blocks the calling thread: use it in a worker.
static napi_value Wait(napi_env env, napi_callback_info info) {
  napi_value buffer;
  int32_t expected = 0;
  int64_t timeout = -1;
  int32_t* w = wait_args(env, info, "wait(buffer, byteOffset, expected, timeoutMicros)", &buffer, &expected, &timeout);
  if (!w) return NULL;
  int r = wait_result(futex_wait(w, expected, timeout));
  napi_value out;
  CHECK(env, napi_create_int32(env, r, &out));
  return out;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref keep;  // the ArrayBuffer stays mapped while a thread-pool thread sleeps on it
  int32_t* word;
  int32_t expected;
  int64_t timeout;
  int result;
} wait_job_t;

static void wait_execute(napi_env env, void* data) {
  (void)env;
  wait_job_t* j = data;
  j->result = wait_result(futex_wait(j->word, j->expected, j->timeout));
}

static void wait_complete(napi_env env, napi_status status, void* data) {
  wait_job_t* j = data;
  napi_value v;
  napi_create_int32(env, status == napi_ok ? j->result : 0, &v);
  napi_resolve_deferred(env, j->deferred, v);
  napi_delete_reference(env, j->keep);
  napi_delete_async_work(env, j->work);
  free(j);
}

// waitAsync(buffer, byteOffset, expected, timeoutMicros) → Promise<0 | 1 | 2>: parks a libuv thread-pool thread on
// the futex so the event loop keeps running. A finite timeout is required: a pool thread must never sleep forever.
static napi_value WaitAsync(napi_env env, napi_callback_info info) {
  napi_value buffer;
  int32_t expected = 0;
  int64_t timeout = -1;
  int32_t* w =
      wait_args(env, info, "waitAsync(buffer, byteOffset, expected, timeoutMicros)", &buffer, &expected, &timeout);
  if (!w) return NULL;
  if (timeout < 0 || timeout > 60LL * 1000000) {
    napi_throw_range_error(env, "RTT_SHM_ARG", "waitAsync needs a timeout between 0 and 60 s");
    return NULL;
  }
  wait_job_t* j = calloc(1, sizeof *j);
  if (!j) return throw_errno(env, "waitAsync", ENOMEM);
  j->word = w;
  j->expected = expected;
  j->timeout = timeout;
  napi_value promise, name;
  CHECK(env, napi_create_promise(env, &j->deferred, &promise));
  CHECK(env, napi_create_reference(env, buffer, 1, &j->keep));
  CHECK(env, napi_create_string_utf8(env, "rtt-shm-wait", NAPI_AUTO_LENGTH, &name));
  CHECK(env, napi_create_async_work(env, NULL, name, wait_execute, wait_complete, j, &j->work));
  CHECK(env, napi_queue_async_work(env, j->work));
  return promise;
}

// wake(buffer, byteOffset, count) → how many waiters were woken (in any process).
static napi_value Wake(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, "RTT_SHM_ARG", "wake(buffer, byteOffset, count)");
    return NULL;
  }
  int32_t* w = word_at(env, argv[0], argv[1]);
  if (!w) return NULL;
  int32_t count = 1;
  CHECK(env, napi_get_value_int32(env, argv[2], &count));
  long r = syscall(SYS_futex, w, FUTEX_WAKE, count < 0 ? INT_MAX : count, NULL, NULL, 0);
  napi_value out;
  CHECK(env, napi_create_int32(env, r < 0 ? 0 : (int32_t)r, &out));
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"map", NULL, Map, NULL, NULL, NULL, napi_default, NULL},
      {"unlink", NULL, Unlink, NULL, NULL, NULL, napi_default, NULL},
      {"wait", NULL, Wait, NULL, NULL, NULL, napi_default, NULL},
      {"waitAsync", NULL, WaitAsync, NULL, NULL, NULL, napi_default, NULL},
      {"wake", NULL, Wake, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
