# fish completion for slopnctl: candidates come from slopnctl itself.
function __slopnctl_complete
    set -l words (commandline -opc)
    # A --socket ~/PATH reaches slopnctl with the tilde expanded: here too.
    set -l prev
    for i in (seq (count $words))
        if test "$prev" = --socket
            set words[$i] (string replace -r -- '^~(?=/|$)' $HOME $words[$i])
        end
        set prev $words[$i]
    end
    slopnctl __complete $words[2..-1] (commandline -ct) 2>/dev/null
end
complete -c slopnctl -f -n 'not __fish_prev_arg_in --socket' -a '(__slopnctl_complete)'
# A path after --socket, or after --socket= (fish's own for a declared option).
complete -c slopnctl -l socket -r -F
