/*
 * A UDP socket for RTP that the event loop never watches: the call's media clock reads it once per
 * frame. Node's dgram wakes the JavaScript thread for every datagram, and on a head unit's CPU each
 * wake-up costs far more than the packet's work; read here, a call wakes the process once per frame.
 *
 * The kernel stamps each datagram when it arrives (SO_TIMESTAMPNS), so the jitter buffer still
 * learns true arrival times, not the time of the tick that read them.
 */
#define _GNU_SOURCE
#include "frame_clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Per datagram in the meta array: length (or -1 when it did not fit its slot), address family (4 or
 * 6), the address as four 32-bit words in network order (an IPv4 one in the first), port, milliseconds
 * since it arrived. Numbers, not text: a call's packets come from one place, and its caller keeps the
 * text of the last address instead of making a string per packet. */
#define META_FIELDS 8
#define MAX_BATCH 64

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  char code[16];
  snprintf(code, sizeof code, "E%d", err);
  const char *name = NULL;
  switch (err) {
  case EADDRINUSE: name = "EADDRINUSE"; break;
  case EADDRNOTAVAIL: name = "EADDRNOTAVAIL"; break;
  case EACCES: name = "EACCES"; break;
  case EINVAL: name = "EINVAL"; break;
  case EBADF: name = "EBADF"; break;
  default: name = code; break;
  }
  napi_throw_error(env, name, message);
  return NULL;
}

static int int_arg(napi_env env, napi_value value, int32_t *out) {
  return napi_get_value_int32(env, value, out) == napi_ok;
}

/* An IPv4 or IPv6 literal and a port as a socket address; its length, 0 where it is neither. */
static socklen_t endpoint_arg(napi_env env, napi_value value, int32_t port, struct sockaddr_storage *out) {
  char text[64];
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, text, sizeof text, &length) != napi_ok) {
    return 0;
  }
  memset(out, 0, sizeof *out);
  struct sockaddr_in *v4 = (struct sockaddr_in *)out;
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    return sizeof *v4;
  }
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
  if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    return sizeof *v6;
  }
  return 0;
}

/* A typed array of the wanted kind: its data and its length in elements. */
static int typed_array_arg(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value arraybuffer;
  size_t offset = 0;
  return napi_get_typedarray_info(env, value, &type, length, data, &arraybuffer, &offset) == napi_ok &&
         type == want;
}

static napi_value make_int(napi_env env, int64_t value) {
  napi_value result;
  napi_create_int64(env, value, &result);
  return result;
}

/* open(address, port) -> fd, bound, non-blocking, stamping arrivals. */
static napi_value udp_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct sockaddr_storage local;
  socklen_t local_length = 0;
  int32_t port = 0;
  if (argc < 2 || !int_arg(env, argv[1], &port) || port < 0 || port > 65535 ||
      (local_length = endpoint_arg(env, argv[0], port, &local)) == 0) {
    napi_throw_type_error(env, "EINVAL", "open(address: IPv4 or IPv6 literal, port: 0-65535)");
    return NULL;
  }
  int fd = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return throw_errno(env, "socket", errno);
  }
  int on = 1;
  /* An IPv6 socket takes IPv6 only, as Node's udp6 sockets do not: a line is of one family. */
  if ((local.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) ||
      setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0 ||
      bind(fd, (struct sockaddr *)&local, local_length) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  return make_int(env, fd);
}

/* The one argument of a call that takes only a descriptor; 0 (a TypeError thrown) where it is not one. */
static int fd_only_arg(napi_env env, napi_callback_info info, const char *usage, int32_t *fd) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !int_arg(env, argv[0], fd)) {
    napi_throw_type_error(env, "EINVAL", usage);
    return 0;
  }
  return 1;
}

/* localPort(fd) -> the bound port. */
static napi_value udp_local_port(napi_env env, napi_callback_info info) {
  int32_t fd = -1;
  if (!fd_only_arg(env, info, "localPort(fd)", &fd)) {
    return NULL;
  }
  struct sockaddr_storage local;
  socklen_t length = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &length) != 0) {
    return throw_errno(env, "getsockname", errno);
  }
  in_port_t port = local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port
                                               : ((struct sockaddr_in *)&local)->sin_port;
  return make_int(env, ntohs(port));
}

/* send(fd, data, address, port) -> 0, or -errno (a datagram the network refuses is not an exception). */
static napi_value udp_send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  int32_t port = 0;
  void *data = NULL;
  size_t length = 0;
  struct sockaddr_storage remote;
  socklen_t remote_length = 0;
  if (argc < 4 || !int_arg(env, argv[0], &fd) || !typed_array_arg(env, argv[1], napi_uint8_array, &data, &length) ||
      !int_arg(env, argv[3], &port) || port <= 0 || port > 65535 ||
      (remote_length = endpoint_arg(env, argv[2], port, &remote)) == 0) {
    napi_throw_type_error(env, "EINVAL", "send(fd, data: Uint8Array, address: IPv4 or IPv6 literal, port: 1-65535)");
    return NULL;
  }
  ssize_t sent = sendto(fd, data, length, 0, (struct sockaddr *)&remote, remote_length);
  return make_int(env, sent < 0 ? -errno : 0);
}

static double timespec_ms(const struct timespec *t) {
  return (double)t->tv_sec * 1e3 + (double)t->tv_nsec / 1e6;
}

/*
 * receive(fd, slots: Uint8Array, slotSize, meta: Float64Array) -> how many datagrams were waiting
 * (as many as fit), each in its slot, described in meta; or -errno.
 */
static napi_value udp_receive(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  int32_t slot_size = 0;
  void *slots = NULL;
  size_t slots_length = 0;
  void *meta_data = NULL;
  size_t meta_length = 0;
  if (argc < 4 || !int_arg(env, argv[0], &fd) ||
      !typed_array_arg(env, argv[1], napi_uint8_array, &slots, &slots_length) ||
      !int_arg(env, argv[2], &slot_size) || slot_size <= 0 ||
      !typed_array_arg(env, argv[3], napi_float64_array, &meta_data, &meta_length)) {
    napi_throw_type_error(env, "EINVAL", "receive(fd, slots: Uint8Array, slotSize, meta: Float64Array)");
    return NULL;
  }
  size_t capacity = slots_length / (size_t)slot_size;
  if (capacity > meta_length / META_FIELDS) {
    capacity = meta_length / META_FIELDS;
  }
  if (capacity > MAX_BATCH) {
    capacity = MAX_BATCH;
  }
  struct mmsghdr messages[MAX_BATCH];
  struct iovec vectors[MAX_BATCH];
  struct sockaddr_storage from[MAX_BATCH];
  /* Room for one SCM_TIMESTAMPNS each. */
  union {
    char bytes[CMSG_SPACE(sizeof(struct timespec))];
    struct cmsghdr align;
  } control[MAX_BATCH];
  memset(messages, 0, sizeof(struct mmsghdr) * capacity);
  for (size_t i = 0; i < capacity; i++) {
    vectors[i].iov_base = (char *)slots + i * (size_t)slot_size;
    vectors[i].iov_len = (size_t)slot_size;
    messages[i].msg_hdr.msg_iov = &vectors[i];
    messages[i].msg_hdr.msg_iovlen = 1;
    messages[i].msg_hdr.msg_name = &from[i];
    messages[i].msg_hdr.msg_namelen = sizeof from[i];
    messages[i].msg_hdr.msg_control = control[i].bytes;
    messages[i].msg_hdr.msg_controllen = sizeof control[i].bytes;
  }
  int count = capacity == 0 ? 0 : recvmmsg(fd, messages, (unsigned int)capacity, MSG_DONTWAIT, NULL);
  if (count < 0) {
    return make_int(env, errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno);
  }
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  double now_ms = timespec_ms(&now);
  double *meta = meta_data;
  for (int i = 0; i < count; i++) {
    struct msghdr *header = &messages[i].msg_hdr;
    double age_ms = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(header); c != NULL; c = CMSG_NXTHDR(header, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        struct timespec stamp;
        memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
        age_ms = now_ms - timespec_ms(&stamp);
      }
    }
    int truncated = (header->msg_flags & MSG_TRUNC) != 0;
    double *fields = meta + (size_t)i * META_FIELDS;
    fields[0] = truncated ? -1 : (double)messages[i].msg_len;
    uint32_t words[4] = {0, 0, 0, 0};
    in_port_t port = 0;
    if (from[i].ss_family == AF_INET6) {
      const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&from[i];
      memcpy(words, &v6->sin6_addr, sizeof words);
      port = v6->sin6_port;
      fields[1] = 6;
    } else {
      const struct sockaddr_in *v4 = (const struct sockaddr_in *)&from[i];
      words[0] = v4->sin_addr.s_addr;
      port = v4->sin_port;
      fields[1] = 4;
    }
    for (int w = 0; w < 4; w++) {
      fields[2 + w] = (double)ntohl(words[w]);
    }
    fields[6] = (double)ntohs(port);
    /* A wall clock stepped backwards between arrival and now must not make a packet arrive later. */
    fields[7] = age_ms > 0 ? age_ms : 0;
  }
  return make_int(env, count);
}

/* close(fd) */
static napi_value udp_close(napi_env env, napi_callback_info info) {
  int32_t fd = -1;
  if (!fd_only_arg(env, info, "close(fd)", &fd)) {
    return NULL;
  }
  if (close(fd) != 0) {
    return throw_errno(env, "close", errno);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  /*
   * Linux switches receive timestamps on for the whole system when the first socket asks for them and
   * off when the last one closes, each time in deferred work: a datagram that comes in between is
   * stamped when it is read, up to a frame late. One socket that asks and is never closed keeps them
   * on for as long as the process runs, so a call's first packets are stamped like the rest.
   */
  int keep_timestamps_on = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (keep_timestamps_on >= 0) {
    int on = 1;
    setsockopt(keep_timestamps_on, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  }
  napi_property_descriptor methods[] = {
      {"open", NULL, udp_open, NULL, NULL, NULL, napi_default, NULL},
      {"localPort", NULL, udp_local_port, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, udp_send, NULL, NULL, NULL, napi_default, NULL},
      {"receive", NULL, udp_receive, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, udp_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  frame_clock_define(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
