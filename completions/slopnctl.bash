# bash completion for slopnctl and slopnd. Candidates come from the programs
# themselves: slopnctl's commands and live values (session ids, VIPs, token
# names, from the socket the line names), slopnd's flags from its tables.
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
	local IFS=$'\n'
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	if [[ $COMP_CWORD -eq 1 ]]; then
		COMPREPLY=($(compgen -W "$(slopnd __flags 2>/dev/null)" -- "$cur"))
		return
	fi
	case $prev in
	--state-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--config|--control|--resolv-conf) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--tun|--egress) COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
	esac
	# After a flag with fixed values (--nat-backend), those; else the flags.
	COMPREPLY=($(compgen -W "$(slopnd __flags "${COMP_WORDS[1]}" "$prev" 2>/dev/null)" -- "$cur"))
}
complete -F _slopnd slopnd
