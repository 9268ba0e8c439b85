"""mmsim_benchmark: a Google Benchmark binary and the smoke tests that keep it alive."""

load("//tools:copts.bzl", "MMSIM_COPTS")

def mmsim_benchmark(name, deps, smoke_size = "small", smoke_tests = None):
    """<name>.cc as a benchmark binary plus smoke tests of it.

    The binary is testonly, tagged "benchmark" and built with the hot-path
    copts: bazel run -c opt //bench:<name>. Each smoke test runs the same
    source once, briefly (--benchmark_min_time=0.001), under bazel test.

    Args:
      name: the binary; its source is <name>.cc.
      deps: dependencies of the binary and of its smoke tests.
      smoke_size: the Bazel size of the smoke tests.
      smoke_tests: {test name: extra arguments}; default {<name>_smoke: []}.
    """
    native.cc_binary(
        name = name,
        copts = MMSIM_COPTS,
        testonly = True,
        srcs = [name + ".cc"],
        tags = ["benchmark"],
        # README.md's `bazel run` commands name the binaries; //:readme_test checks them.
        visibility = ["//:__pkg__"],
        deps = deps,
    )
    for test, args in (smoke_tests or {name + "_smoke": []}).items():
        native.cc_test(
            name = test,
            size = smoke_size,
            srcs = [name + ".cc"],
            args = ["--benchmark_min_time=0.001"] + args,
            deps = deps,
        )
