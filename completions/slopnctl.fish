# fish completion for slopnctl: candidates come from slopnctl itself.
function __slopnctl_complete
    set -l words (commandline -opc)
    slopnctl __complete $words[2..-1] (commandline -ct) 2>/dev/null
end
complete -c slopnctl -f -a '(__slopnctl_complete)'
