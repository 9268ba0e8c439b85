"""mmsim_test: makes a scenario file a test. It passes when mmsim exits 0 on it, i.e.
the scenario parses, runs, and every `expect` holds (with --check: debug_vm stays clean
after every statement)."""

def mmsim_test(name, scenario, args = [], size = "small", **kwargs):
    native.sh_test(
        name = name,
        size = size,
        srcs = ["//sim:mmsim_test_runner.sh"],
        args = ["$(location //sim:mmsim)", "$(location %s)" % scenario] + args,
        data = ["//sim:mmsim", scenario],
        **kwargs
    )
