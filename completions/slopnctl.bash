# bash completion for slopnctl and slopnd. Candidates come from the programs
# themselves: slopnctl's commands and live values (session ids, VIPs, token
# names, from the socket the line names), slopnd's flags from its tables.
_slopnctl()
{
	local IFS=$'\n'
	# The words as slopnctl reads them, split at blanks only: COMP_WORDS is
	# also split at bash's word breaks (COMP_WORDBREAKS: the ':' of an IPv6
	# address or of a path, '=').
	local line=${COMP_LINE:0:COMP_POINT} words
	IFS=$' \t' read -r -a words <<< "$line"
	[[ -z $line || $line == *[[:blank:]] ]] && words+=("")
	local n=${#words[@]} cur=${words[${#words[@]}-1]}
	if [[ $n -gt 1 && ${words[n-2]} == --socket ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	elif [[ $cur == --socket=* ]]; then
		# Whole words, as slopnctl gives for --token=NAME: cut below.
		COMPREPLY=($(compgen -P --socket= -f -- "${cur#--socket=}"))
	else
		# A --socket ~/PATH reaches slopnctl with the shell's tilde expanded:
		# here too, or the live values come from no socket.
		local i
		for ((i = 2; i < n - 1; i++)); do
			if [[ ${words[i-1]} == --socket && (${words[i]} == '~' || ${words[i]} == '~/'*) ]]; then
				words[i]=$HOME${words[i]:1}
			fi
		done
		COMPREPLY=($(slopnctl __complete "${words[@]:1}" 2>/dev/null))
	fi
	# bash puts a candidate in place of its own word, which begins after
	# the last break in cur: what comes before goes. Only ':' and '=' that
	# are breaks (many take ':' out of COMP_WORDBREAKS, for scp).
	local keep=$cur
	[[ $COMP_WORDBREAKS == *:* ]] && keep=${keep##*:}
	[[ $COMP_WORDBREAKS == *=* ]] && keep=${keep##*=}
	if [[ $keep != "$cur" ]]; then
		local pre=${cur%"$keep"}
		COMPREPLY=("${COMPREPLY[@]#"$pre"}")
	fi
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
