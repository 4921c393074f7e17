{
  "targets": [
    {
      "target_name": "ferry_io",
      "sources": [
        "src/addon.c",
        "src/afp_open.c",
        "src/ethtool_features.c",
        "src/link.c",
        "src/mapping.c",
        "src/napi_util.c",
        "src/netns.c",
        "src/port_napi.c",
        "src/rx_meta.c",
        "src/rx_mmsg.c",
        "src/rx_ring.c",
        "src/tun_io.c",
        "src/tun_open.c",
        "src/tx_common.c",
        "src/tx_mmsg.c",
        "src/tx_ring.c"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "conditions": [
        ["OS!='linux'", { "type": "none", "sources": [] }]
      ]
    }
  ]
}
