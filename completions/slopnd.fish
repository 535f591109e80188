# fish completion for slopnd: the roles, then the role's flags, from slopnd itself.
# After a flag with fixed values (--nat-backend), slopnd gives those instead.
function __slopnd_flags
    set -l words (commandline -opc)
    slopnd __flags $words[2] $words[-1] 2>/dev/null
end
complete -c slopnd -f -n '__fish_use_subcommand' -a 'server client pin'
complete -c slopnd -f -n '__fish_use_subcommand' -l help -d 'usage'
complete -c slopnd -f -n '__fish_use_subcommand' -l version -d 'version'
complete -c slopnd -f -n 'not __fish_use_subcommand; and not __fish_prev_arg_in --state-dir --config --control --resolv-conf --tun --egress' -a '(__slopnd_flags)'
complete -c slopnd -F -n '__fish_prev_arg_in --state-dir --config --control --resolv-conf'
complete -c slopnd -f -n '__fish_prev_arg_in --tun --egress' -a '(path basename /sys/class/net/*)'
