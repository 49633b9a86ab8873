#!/usr/bin/env python3
"""Runs the README's shell blocks in order, in one fresh bash, against a running service, and checks
every output the README shows. Usage: readme_test.py README.md http://127.0.0.1:PORT

A block is every ```bash fence from "## Walk-through" on. A step is one command (with its
continuation lines); the comment lines right under it are its expected output when the first one
starts like an answer ({, [, HTTP/, a digit, or an SSE field), otherwise they are prose. In an
expected output "…" stands for anything, and white space is ignored. Every step must exit 0 (the
README's curl calls use -f, so an error status fails the step unless the README shows it).
Prints TAP, ending with "# pass N" and "# fail M".
"""
import os, re, subprocess, sys, tempfile

ANSWER = re.compile(r'^(\{|\[|HTTP/|\d|retry:|event:|id:|data:|")')


def blocks(text):
    start = text.index('\n## Walk-through')
    for m in re.finditer(r'^```bash\n(.*?)^```', text[start:], re.S | re.M):
        line = text[:start + m.start()].count('\n') + 2
        yield line, m.group(1).splitlines()


def steps(first_line, lines):
    """(line number, command, expected or None) for each command of a block."""
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith('#'):
            i += 1
            continue
        begin, command = i, [line]
        while (command[-1].rstrip().endswith('\\') or ''.join(command).count("'") % 2) and i + 1 < len(lines):
            i += 1
            command.append(lines[i])
        i += 1
        comments = []
        while i < len(lines) and lines[i].lstrip().startswith('#'):
            comments.append(re.sub(r'^\s*# ?', '', lines[i]))
            i += 1
        expected = '\n'.join(comments) if comments and ANSWER.match(comments[0]) else None
        out.append((first_line + begin, '\n'.join(command), expected))
    return out


def matches(expected, actual):
    squeeze = lambda s: re.sub(r'\s+', '', s)
    pattern = '.*'.join(re.escape(part) for part in squeeze(expected).split('…'))
    return re.fullmatch(pattern, squeeze(actual), re.S) is not None


def main():
    readme, url = sys.argv[1], sys.argv[2].rstrip('/')
    host = re.sub(r'^https?://', '', url)
    text = open(readme, encoding='utf-8').read()
    all_steps = [s for line, block in blocks(text) for s in steps(line, block)]
    work = tempfile.mkdtemp(prefix='readme-')
    script = ['set -uo pipefail', f'cd {work}']
    for n, (_, command, _) in enumerate(all_steps):
        command = command.replace('localhost:8080', host)
        script.append(f'{{ {command}\n}} >{work}/{n}.out 2>&1; echo $? >{work}/{n}.rc')
        script.append(f'[ "$(cat {work}/{n}.rc)" = 0 ] || exit 0')
    # A fresh shell: only PATH and HOME from the caller.
    env = {'PATH': os.environ['PATH'], 'HOME': os.environ.get('HOME', '/tmp'), 'LANG': 'C.UTF-8'}
    subprocess.run(['bash', '-c', '\n'.join(script)], env=env, timeout=600)

    passed = failed = 0
    for n, (line, command, expected) in enumerate(all_steps):
        first = command.splitlines()[0].strip()
        if not os.path.exists(f'{work}/{n}.rc'):
            print(f'not ok {n + 1} - README line {line}: not run (an earlier step failed): {first}')
            failed += 1
            continue
        rc = open(f'{work}/{n}.rc').read().strip()
        actual = open(f'{work}/{n}.out', encoding='utf-8', errors='replace').read()
        if rc != '0':
            problem = f'exited {rc}'
        elif expected is not None and not matches(expected, actual):
            problem = 'printed something else than the README shows'
        else:
            print(f'ok {n + 1} - README line {line}: {first}')
            passed += 1
            continue
        failed += 1
        print(f'not ok {n + 1} - README line {line}: {problem}: {first}')
        for label, body in (('README shows', expected or '(nothing)'), ('printed', actual or '(nothing)')):
            print(f'#   {label}:')
            for l in body.splitlines()[:20]:
                print(f'#     {l}')
    print(f'1..{len(all_steps)}')
    print(f'# pass {passed}')
    print(f'# fail {failed}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
