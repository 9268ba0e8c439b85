"""system_absl: exposes Debian's Abseil (libabsl-dev) under upstream labels.

Reads the absl_*.pc files, writes one cc_library per pkg-config module (linkopts =
its Libs, deps = its Requires), and aliases under the upstream package paths
(@com_google_absl//absl/strings and so on). Headers come from /usr/include, a
built-in system include directory, so none are declared.
Bazel 4 Starlark: str.split() needs a separator; sorted() cannot sort paths.
"""

_ABSL = {  # upstream package -> {upstream target: pkg-config module}
    "absl/algorithm": {"algorithm": "absl_algorithm", "container": "absl_algorithm_container"},
    "absl/base": {
        "base": "absl_base",
        "config": "absl_config",
        "core_headers": "absl_core_headers",
        "dynamic_annotations": "absl_dynamic_annotations",
        "endian": "absl_endian",
        "log_severity": "absl_log_severity",
        "prefetch": "absl_prefetch",
    },
    "absl/cleanup": {"cleanup": "absl_cleanup"},
    "absl/container": {
        "btree": "absl_btree",
        "fixed_array": "absl_fixed_array",
        "flat_hash_map": "absl_flat_hash_map",
        "flat_hash_set": "absl_flat_hash_set",
        "inlined_vector": "absl_inlined_vector",
        "layout": "absl_layout",
        "node_hash_map": "absl_node_hash_map",
        "node_hash_set": "absl_node_hash_set",
    },
    "absl/debugging": {
        "failure_signal_handler": "absl_failure_signal_handler",
        "leak_check": "absl_leak_check",
        "stacktrace": "absl_stacktrace",
        "symbolize": "absl_symbolize",
    },
    "absl/flags": {
        "commandlineflag": "absl_flags_commandlineflag",
        "config": "absl_flags_config",
        "flag": "absl_flags",
        "marshalling": "absl_flags_marshalling",
        "parse": "absl_flags_parse",
        "reflection": "absl_flags_reflection",
        "usage": "absl_flags_usage",
    },
    "absl/functional": {
        "any_invocable": "absl_any_invocable",
        "bind_front": "absl_bind_front",
        "function_ref": "absl_function_ref",
    },
    "absl/hash": {"hash": "absl_hash"},
    "absl/memory": {"memory": "absl_memory"},
    "absl/meta": {"type_traits": "absl_type_traits"},
    "absl/numeric": {
        "bits": "absl_bits",
        "int128": "absl_int128",
        "representation": "absl_numeric_representation",
    },
    "absl/random": {
        "bit_gen_ref": "absl_random_bit_gen_ref",
        "distributions": "absl_random_distributions",
        "random": "absl_random_random",
        "seed_gen_exception": "absl_random_seed_gen_exception",
        "seed_sequences": "absl_random_seed_sequences",
    },
    "absl/status": {"status": "absl_status", "statusor": "absl_statusor"},
    "absl/strings": {"cord": "absl_cord", "str_format": "absl_str_format", "strings": "absl_strings"},
    "absl/synchronization": {"synchronization": "absl_synchronization"},
    "absl/time": {"time": "absl_time"},
    "absl/types": {
        "any": "absl_any",
        "bad_any_cast": "absl_bad_any_cast",
        "bad_optional_access": "absl_bad_optional_access",
        "bad_variant_access": "absl_bad_variant_access",
        "compare": "absl_compare",
        "optional": "absl_optional",
        "span": "absl_span",
        "variant": "absl_variant",
    },
    "absl/utility": {"utility": "absl_utility"},
}

_ATOMIC_GROUP = "-Wl,--push-state,--as-needed -latomic -Wl,--pop-state"

def _pc_field(text, field):
    for line in text.split("\n"):
        if line.startswith(field + ":"):
            return line[len(field) + 1:].strip()
    return ""

def _system_absl_impl(rctx):
    r = rctx.execute(["pkg-config", "--variable=pcfiledir", "absl_base"])
    if r.return_code != 0:
        fail("pkg-config cannot find absl_base (apt-get install libabsl-dev pkg-config): " + r.stderr)
    pcdir = rctx.path(r.stdout.strip())
    root = ['package(default_visibility = ["//visibility:public"])', ""]
    mods = sorted([
        f.basename[:-3]
        for f in pcdir.readdir()
        if f.basename.startswith("absl_") and f.basename.endswith(".pc")
    ])
    for mod in mods:
        text = rctx.read(pcdir.get_child(mod + ".pc"))
        libs = _pc_field(text, "Libs")
        if mod != "absl_base":  # ~70 modules repeat this group; keep one copy on absl_base
            libs = libs.replace(_ATOMIC_GROUP, "")
        libs = [t for t in libs.split(" ") if t and not t.startswith("-L")]
        reqs = []
        for field in ("Requires", "Requires.private"):
            for req in _pc_field(text, field).split(","):
                req = req.strip().split(" ")[0]
                if req and req != mod and req not in reqs:
                    reqs.append(req)
        root.append("cc_library(name = %r, linkopts = %r, deps = %r)" % (mod, libs, [":" + q for q in reqs]))
    rctx.file("BUILD.bazel", "\n".join(root) + "\n")
    for pkg, targets in _ABSL.items():
        lines = ['package(default_visibility = ["//visibility:public"])', ""]
        for name, module in sorted(targets.items()):
            lines.append("alias(name = %r, actual = %r)" % (name, "//:" + module))
        rctx.file(pkg + "/BUILD.bazel", "\n".join(lines) + "\n")
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)

system_absl = repository_rule(
    implementation = _system_absl_impl,
    local = True,
    environ = ["PKG_CONFIG_PATH"],
)
