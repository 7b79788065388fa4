/*
 * A call's media clock: a kernel timer (timerfd) that expires every frame on an absolute schedule,
 * watched by Node's event loop, calling one JavaScript function per wake-up with the number of frames
 * that have come due.
 *
 * Node's own timers cost a 20 ms clock far more than the work it paces: each expiry goes through the
 * timer lists in JavaScript and a new Timeout object (garbage, and the page faults of collecting it),
 * and a setTimeout re-armed for the next frame has to correct its own drift. The kernel keeps the
 * period exactly, and reports frames missed while the process was held up, so none is skipped.
 */
#define _GNU_SOURCE
#include "frame_clock.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

typedef struct {
  uv_poll_t poll;
  int fd;
  napi_env env;
  napi_ref on_tick;
  napi_async_context async_context;
  int started;
  /* Freed once both have happened: the event loop let go of the poll handle, and JavaScript of the clock. */
  int handle_closed;
  int finalized;
  int closing;
} frame_clock;

static void free_if_unused(frame_clock *clock) {
  if (clock->handle_closed && clock->finalized) {
    free(clock);
  }
}

static void on_handle_closed(uv_handle_t *handle) {
  frame_clock *clock = handle->data;
  close(clock->fd);
  clock->handle_closed = 1;
  free_if_unused(clock);
}

static void release(frame_clock *clock) {
  if (clock->closing) {
    return;
  }
  clock->closing = 1;
  clock->started = 0;
  napi_delete_reference(clock->env, clock->on_tick);
  napi_async_destroy(clock->env, clock->async_context);
  uv_close((uv_handle_t *)&clock->poll, on_handle_closed);
}

static void on_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  frame_clock *clock = data;
  release(clock);
  clock->finalized = 1;
  free_if_unused(clock);
}

static void on_expired(uv_poll_t *poll, int status, int events) {
  (void)events;
  frame_clock *clock = poll->data;
  uint64_t expirations = 0;
  if (status < 0 || read(clock->fd, &expirations, sizeof expirations) != sizeof expirations ||
      expirations == 0 || !clock->started) {
    return;
  }
  napi_env env = clock->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value on_tick, receiver, count, result;
  napi_get_reference_value(env, clock->on_tick, &on_tick);
  napi_get_global(env, &receiver);
  napi_create_double(env, (double)expirations, &count);
  /* As Node's timers do: process.nextTick and promise jobs queued by the tick run after it, and an
   * exception thrown by it is an uncaught exception of the process. */
  if (napi_make_callback(env, clock->async_context, receiver, on_tick, 1, &count, &result) ==
      napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

/* The clock an external stands for; 0 where it is none, or is closed and `closed_too` is not set. */
static int clock_arg(napi_env env, napi_value value, int closed_too, frame_clock **out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, value, (void **)out) != napi_ok || *out == NULL) {
    return 0;
  }
  return closed_too || !(*out)->closing;
}

/* The one argument of clockStop and clockClose; NULL (a TypeError thrown) where it is not a clock. */
static frame_clock *only_clock_arg(napi_env env, napi_callback_info info, int closed_too, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  frame_clock *clock = NULL;
  if (argc < 1 || !clock_arg(env, argv[0], closed_too, &clock)) {
    napi_throw_type_error(env, "EINVAL", usage);
    return NULL;
  }
  return clock;
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, "ECLOCK", message);
  return NULL;
}

/* clockOpen(onTick: (frames: number) => void) -> a stopped clock. */
static napi_value clock_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_valuetype type;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, "EINVAL", "clockOpen(onTick: function)");
    return NULL;
  }
  uv_loop_t *loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, "ECLOCK", "no event loop");
    return NULL;
  }
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) {
    return throw_errno(env, "timerfd_create", errno);
  }
  frame_clock *clock = calloc(1, sizeof *clock);
  if (clock == NULL) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  clock->fd = fd;
  clock->env = env;
  clock->poll.data = clock;
  int err = uv_poll_init(loop, &clock->poll, fd);
  if (err != 0) {
    close(fd);
    free(clock);
    napi_throw_error(env, "ECLOCK", uv_strerror(err));
    return NULL;
  }
  napi_value name, external;
  napi_create_string_utf8(env, "carphone.FrameClock", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[0], 1, &clock->on_tick);
  napi_async_init(env, NULL, name, &clock->async_context);
  napi_create_external(env, clock, on_finalize, NULL, &external);
  return external;
}

/* base + ms (not negative; fractions of a millisecond kept). */
static struct timespec after_ms(struct timespec base, double ms) {
  int64_t ns = (int64_t)(ms * 1e6);
  int64_t total = (int64_t)base.tv_nsec + ns % 1000000000;
  base.tv_sec += (time_t)(ns / 1000000000 + total / 1000000000);
  base.tv_nsec = (long)(total % 1000000000);
  return base;
}

/*
 * clockStart(clock, firstInMs, periodMs): the first tick firstInMs from now (0: as soon as the event
 * loop turns), then one every periodMs, on CLOCK_MONOTONIC (the clock behind performance.now()).
 */
static napi_value clock_start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  frame_clock *clock = NULL;
  double first_ms = 0;
  double period_ms = 0;
  if (argc < 3 || !clock_arg(env, argv[0], 0, &clock) || napi_get_value_double(env, argv[1], &first_ms) != napi_ok ||
      napi_get_value_double(env, argv[2], &period_ms) != napi_ok || !(first_ms >= 0) || !(period_ms >= 1) ||
      period_ms > 1000) {
    napi_throw_type_error(env, "EINVAL", "clockStart(open clock, firstInMs >= 0, periodMs: 1-1000)");
    return NULL;
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  struct timespec zero = {0, 0};
  struct itimerspec schedule = {
      .it_interval = after_ms(zero, period_ms),
      /* A first expiry of "now" would disarm the timer (an it_value of zero does): a nanosecond on. */
      .it_value = after_ms(now, first_ms > 0 ? first_ms : 1e-6),
  };
  if (timerfd_settime(clock->fd, TFD_TIMER_ABSTIME, &schedule, NULL) != 0) {
    return throw_errno(env, "timerfd_settime", errno);
  }
  int err = uv_poll_start(&clock->poll, UV_READABLE, on_expired);
  if (err != 0) {
    napi_throw_error(env, "ECLOCK", uv_strerror(err));
    return NULL;
  }
  clock->started = 1;
  return NULL;
}

/* clockStop(clock): no tick until it is started again (a tick already due is not delivered). */
static napi_value clock_stop(napi_env env, napi_callback_info info) {
  frame_clock *clock = only_clock_arg(env, info, 0, "clockStop(open clock)");
  if (clock == NULL) {
    return NULL;
  }
  struct itimerspec disarmed = {{0, 0}, {0, 0}};
  timerfd_settime(clock->fd, 0, &disarmed, NULL);
  uv_poll_stop(&clock->poll);
  clock->started = 0;
  return NULL;
}

/* clockClose(clock): stopped for good; its descriptor is closed. Closing twice does nothing. */
static napi_value clock_close(napi_env env, napi_callback_info info) {
  frame_clock *clock = only_clock_arg(env, info, 1, "clockClose(clock)");
  if (clock == NULL) {
    return NULL;
  }
  release(clock);
  return NULL;
}

void frame_clock_define(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"clockOpen", NULL, clock_open, NULL, NULL, NULL, napi_default, NULL},
      {"clockStart", NULL, clock_start, NULL, NULL, NULL, napi_default, NULL},
      {"clockStop", NULL, clock_stop, NULL, NULL, NULL, napi_default, NULL},
      {"clockClose", NULL, clock_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
}
