# fish completion for slopnd: the roles, then the role's flags, from slopnd itself.
function __slopnd_flags
    set -l words (commandline -opc)
    slopnd __flags $words[2] 2>/dev/null
end
complete -c slopnd -f -n '__fish_use_subcommand' -a 'server client pin'
complete -c slopnd -f -n 'not __fish_use_subcommand' -a '(__slopnd_flags)'
