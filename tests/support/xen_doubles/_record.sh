# Test double helper (sourced): appends "<name>\t<arg1>\t<arg2>..." to $XEN_DOUBLES_LOG.
# Behaviour of the doubles is selected with $XEN_DOUBLES_MODE (comma-separated flags).
xd_record() {
    name=$1; shift
    { printf '%s' "$name"; for a in "$@"; do printf '\t%s' "$a"; done; printf '\n'; } >> "${XEN_DOUBLES_LOG:-/dev/null}"
}
xd_mode() { case ",${XEN_DOUBLES_MODE:-}," in *",$1,"*) return 0 ;; esac; return 1; }
