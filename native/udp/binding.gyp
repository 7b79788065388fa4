{
  "targets": [
    {
      "target_name": "carphone_udp",
      "sources": ["udp_socket.c", "frame_clock.c"],
      "cflags": ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror"]
    },
    {
      "target_name": "carphone_notify",
      "sources": ["notify_socket.c"],
      "cflags": ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
