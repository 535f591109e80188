# bash completion for slopnctl: candidates (commands and live session ids
# and VIPs) come from slopnctl itself, for the socket the line names.
_slopnctl()
{
	local IFS=$'\n'
	local cur=${COMP_WORDS[COMP_CWORD]}
	if [[ ${COMP_WORDS[COMP_CWORD-1]} == --socket ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		return
	fi
	COMPREPLY=($(slopnctl __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -F _slopnctl slopnctl

_slopnd()
{
	local cur=${COMP_WORDS[COMP_CWORD]}
	if [[ $COMP_CWORD -eq 1 ]]; then
		COMPREPLY=($(compgen -W "server client pin --help --version" -- "$cur"))
		return
	fi
	case ${COMP_WORDS[1]} in
	server) COMPREPLY=($(compgen -W "--listen --subnet --token --state-dir --tun --mtu --no-spoke-to-spoke --control --verbose --help" -- "$cur")) ;;
	client) COMPREPLY=($(compgen -W "--server --token --pin --tun --verbose --help" -- "$cur")) ;;
	pin) COMPREPLY=($(compgen -W "--state-dir --help" -- "$cur")) ;;
	esac
}
complete -F _slopnd slopnd
