{
  "targets": [
    {
      "target_name": "sgemm",
      "sources": ["src/sgemm.cc"],
      "cflags_cc": ["-O3", "-fno-exceptions", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"],
      "conditions": [
        ["OS=='mac'", {
          "defines": ["USE_ACCELERATE", "ACCELERATE_NEW_LAPACK"],
          "libraries": ["-framework Accelerate"],
          "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-ffp-contract=off"] }
        }],
        ["OS!='mac'", {
          "defines": ["USE_OPENBLAS"],
          "libraries": ["-lopenblas"]
        }]
      ]
    }
  ]
}
