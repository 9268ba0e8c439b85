"""opt_test: a C++ test built under -c opt, whatever the command line's compilation mode.

Some code exists only in opt builds (NDEBUG): the single-path branches of the lock entry
points (mm/sched_hooks.h: sched_single_path). The tests otherwise run in fastbuild and
under the sanitizers, where those branches are compiled out. opt_test builds the test
binary, and everything it links, in the opt configuration (a Starlark transition on
compilation_mode) and runs it as an ordinary test, so `bazel test //...` and CI's passes
run it. Other flags (--config=asan ...) still apply.
"""

def _opt_transition_impl(settings, attr):
    return {"//command_line_option:compilation_mode": "opt"}

_opt_transition = transition(
    implementation = _opt_transition_impl,
    inputs = [],
    outputs = ["//command_line_option:compilation_mode"],
)

def _opt_test_impl(ctx):
    binary = ctx.attr.binary[0][DefaultInfo]
    src = binary.files_to_run.executable
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.symlink(output = out, target_file = src, is_executable = True)
    runfiles = ctx.runfiles(files = [src]).merge(binary.default_runfiles)
    return [DefaultInfo(executable = out, runfiles = runfiles)]

_opt_test = rule(
    implementation = _opt_test_impl,
    attrs = {
        "binary": attr.label(cfg = _opt_transition, executable = True, mandatory = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
    test = True,
)

def opt_test(name, srcs, deps = [], size = "small", tags = [], **kwargs):
    """A cc_test of srcs/deps, compiled and linked under -c opt."""
    native.cc_binary(
        name = name + "_bin",
        srcs = srcs,
        deps = deps,
        testonly = True,
        tags = ["manual"],
        **kwargs
    )
    _opt_test(
        name = name,
        binary = ":" + name + "_bin",
        size = size,
        tags = tags,
    )
