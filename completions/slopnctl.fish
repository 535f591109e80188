# fish completion for slopnctl: candidates come from slopnctl itself.
function __slopnctl_complete
    set -l words (commandline -opc)
    slopnctl __complete $words[2..-1] (commandline -ct) 2>/dev/null
end
complete -c slopnctl -f -n 'not __fish_prev_arg_in --socket' -a '(__slopnctl_complete)'
# A path after --socket, or after --socket= (fish's own for a declared option).
complete -c slopnctl -l socket -r -F
