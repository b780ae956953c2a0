#!/usr/bin/env bash
# Regenerates the sample prompts of flows/prompts: Mandarin speech from
# espeak-ng (voice cmn) and a synthesised hold tune, all as 8 kHz mono
# μ-law WAV (8 KB per second). Idempotent: the same tools give the same
# files (no dither). Needs: apt-get install -y espeak-ng sox
#
# Usage: flows/prompts/generate.sh        (from anywhere)
set -euo pipefail

cd "$(dirname "$0")"
for tool in espeak-ng sox soxi; do
	command -v "$tool" >/dev/null || { echo "generate.sh: $tool is missing: apt-get install -y espeak-ng sox" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

max_seconds=4

speed=260 # words per minute; espeak-ng's Mandarin is slow at its default

# name|text — keep each under $max_seconds seconds when spoken.
prompts=(
	"welcome|欢迎致电客服热线。"
	"main_menu|话费请按1，上网请按2，投诉请按9。"
	"invalid|输入有误，请重新输入。"
	"no_input|对不起，没有收到您的按键。"
	"please_hold|正在为您转接，请稍候。"
	"sorry_busy|对不起，坐席正忙，请稍后再拨。"
	"thanks|感谢您的来电，再见。"
	"goodbye|谢谢，再见。"
)

# ulaw converts to 8 kHz mono μ-law without dither (deterministic output),
# peaks at -3 dBFS; extra sox effects may follow.
ulaw() {
	local in=$1 out=$2
	shift 2
	sox -D "$in" -r 8000 -c 1 -e u-law -t wav "$out" "$@" gain -n -3
}
# trim cuts the silence espeak-ng leaves before and after speech.
trim=(silence 1 0.02 0.3% reverse silence 1 0.02 0.3% reverse)

for p in "${prompts[@]}"; do
	name=${p%%|*}
	text=${p#*|}
	espeak-ng -v cmn -s "$speed" -w "$tmp/$name.wav" "$text"
	ulaw "$tmp/$name.wav" "$name.wav" "${trim[@]}" pad 0 0.15
	secs=$(soxi -D "$name.wav")
	if awk -v s="$secs" -v m="$max_seconds" 'BEGIN { exit !(s > m) }'; then
		echo "generate.sh: $name.wav is ${secs}s, longer than ${max_seconds}s: shorten the text" >&2
		exit 1
	fi
	echo "$name.wav ${secs}s  $text"
done

# hold_music: a gentle four-second arpeggio (C5 E5 G5 E5), soft sine notes
# that fade in and out, so it loops without a click.
notes=(523.25 659.25 783.99 659.25)
files=()
for i in "${!notes[@]}"; do
	sox -D -n -r 8000 -c 1 -b 16 "$tmp/note$i.wav" synth 1 sine "${notes[$i]}" fade q 0.08 1 0.35 vol 0.25
	files+=("$tmp/note$i.wav")
done
sox -D "${files[@]}" "$tmp/hold_music.wav"
ulaw "$tmp/hold_music.wav" hold_music.wav
echo "hold_music.wav $(soxi -D hold_music.wav)s  (synthesised)"
