{
  "targets": [
    {
      "target_name": "rtt_shm",
      "sources": ["src/shm.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=c11"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "libraries": ["-lrt"]
    }
  ]
}
