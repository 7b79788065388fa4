/*
 * sd_notify(3) for carphoned: one datagram to the AF_UNIX socket that systemd names in $NOTIFY_SOCKET
 * (a path, or an abstract name written with a leading '@'). carphoned feeds systemd's watchdog with it;
 * Node's dgram has no AF_UNIX datagrams, and spawning systemd-notify for every ping would race with
 * systemd's look-up of the sender, which has exited by then.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_MESSAGE 256

static napi_value fail(napi_env env, const char *what, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, err == EINVAL ? "EINVAL" : NULL, message);
  return NULL;
}

/* A string argument into buf (size bytes with its NUL); its length, or -1 if it does not fit. */
static long string_arg(napi_env env, napi_value value, char *buf, size_t size) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok || length >= size) {
    return -1;
  }
  if (napi_get_value_string_utf8(env, value, buf, size, &length) != napi_ok) {
    return -1;
  }
  return (long)length;
}

/* send(socketName, message): throws with the errno's message when the datagram cannot be sent. */
static napi_value notify_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    return fail(env, "notify", EINVAL);
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  char name[sizeof addr.sun_path + 1];
  long name_length = string_arg(env, argv[0], name, sizeof addr.sun_path);
  char message[MAX_MESSAGE];
  long message_length = string_arg(env, argv[1], message, sizeof message);
  if (name_length <= 0 || message_length <= 0) {
    return fail(env, "notify: socket name or message empty or too long", EINVAL);
  }
  memcpy(addr.sun_path, name, (size_t)name_length);
  if (addr.sun_path[0] == '@') {
    addr.sun_path[0] = '\0';
  }
  socklen_t addr_length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)name_length);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return fail(env, "notify: socket", errno);
  }
  ssize_t sent = sendto(fd, message, (size_t)message_length, MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_length);
  int err = errno;
  close(fd);
  if (sent < 0) {
    return fail(env, "notify: sendto", err);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"send", NULL, notify_send, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
