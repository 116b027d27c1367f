#!/bin/sh
# test_layers.sh — the library's layers, checked on the sources: core includes nothing
# above it; models and kernels never include each other; diagnostics include neither; no
# kernel calls a model function; the library never includes the CLI; the chain driver
# names no kernel (only the registry lists them).
# usage: test_layers.sh SOURCE_DIR
S=${1:-.}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok     $1"; }
bad() { fail=$((fail + 1)); echo "NOT OK $1"; }

# files of layer $1 whose #include lines match the pattern $2 (none wanted)
none() {
    hits=$(grep -n "#include \".*$2" "$S"/src/$1/*.[ch] 2>/dev/null)
    files=$(ls "$S"/src/$1/*.[ch] 2>/dev/null | wc -l)
    if [ "$files" -gt 0 ] && [ -z "$hits" ]; then ok "$3 ($files files)"; else bad "$3: ${hits:-no files in src/$1}"; fi
}
none core '\(model\|mcmc\|diag\|cli\)/\|model_internal\|kernel\.h\|hamiltonian' "core includes nothing above it"
none model '\(mcmc\|diag\|cli\)/\|kernel\.h\|hamiltonian' "models include no kernel, diagnostic or CLI header"
none mcmc '\(model\|diag\|cli\)/\|model_internal' "kernels and the chain driver include no model, diagnostic or CLI header"
none diag '\(model\|mcmc\|cli\)/\|model_internal\|kernel\.h' "diagnostics include no model or kernel header"

calls=$(grep -n "bnn_model_\|bnn_fused\|bnn_linear_ss" "$S"/src/mcmc/*.c)
[ -z "$calls" ] && ok "no kernel or chain code calls a model function" || bad "mcmc calls models: $calls"
named=$(grep -ln "bnn_kernel_\(rw\|langevin\|mala\|hmc\|nuts\|gibbs\|slice\)\b" "$S"/src/mcmc/*.c | grep -v "/registry.c\|/kernel_[a-z]*\.c")
[ -z "$named" ] && ok "only the registry names the kernels" || bad "kernels named outside the registry: $named"
cross=$(grep -n "bnn_kernel_[a-z]* *=" "$S"/src/mcmc/kernel_*.c | awk -F: '{split($1, p, "/"); f = p[length(p)]; sub(/^kernel_/, "", f); sub(/\.c$/, "", f); if ($0 !~ "bnn_kernel_" f " *=") print}')
[ -z "$cross" ] && ok "each kernel file defines its own kernel only" || bad "kernel files defining others: $cross"
echo "test_layers: $pass passed, $fail failed"
[ "$pass" -gt 0 ] && [ "$fail" -eq 0 ]
