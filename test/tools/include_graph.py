#!/usr/bin/python3
"""
include_graph.py: the module graph of privacy_ext's C sources, and the
checks that keep it a design rather than a tangle.

A module is a .c file and the .h file of the same name beside it
(src/keys/key_store.c + src/keys/key_store.h); a header without a .c file
(restore.h) is a module of its own.  A file including "x.h" makes its
module depend on x.h's module.  The checks:

  1. no cycles: a module never depends, through any chain, on itself;
  2. no extern declarations in .c files: what a module shares goes in
     its header (the grep below).

An include is resolved as the compiler does for privacy_ext's sources (the
including file's folder, then src/, then src/core/); one found in none of
them is PostgreSQL's or the system's and is not part of the graph.

Exits 0 when both hold; otherwise lists every cycle and extern and exits 1.
--dot prints the graph in Graphviz format.  --self-test first checks the
checker: on a scratch tree with a planted cycle (a.c -> sub/b.h,
sub/b.c -> a.h) and an extern in a .c file it must report exactly those
two, and nothing once they are removed.

Usage: /usr/bin/python3 test/tools/include_graph.py [--src DIR] [--dot] [--self-test]
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
EXTERN = re.compile(r'^[ \t]*extern\b(?!\s+"C")', re.M)


def sources(src):
    for folder, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(('.c', '.h')):
                yield os.path.join(folder, name)


def module_of(path, src):
    """src/keys/key_store.c and .h -> keys/key_store."""
    return os.path.splitext(os.path.relpath(path, src))[0]


def resolve(name, including, src):
    for folder in (os.path.dirname(including), src, os.path.join(src, 'core')):
        candidate = os.path.normpath(os.path.join(folder, name))
        if os.path.isfile(candidate):
            return candidate
    return None


def strip_comments(text):
    return re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), text, flags=re.S)


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def one_cycle(graph, component):
    """A concrete path a -> ... -> a inside a component, for the report."""
    members = set(component)
    start = component[0]
    path, seen = [start], {start}
    while True:
        nxt = sorted(w for w in graph[path[-1]] if w in members)
        back = [w for w in nxt if w == start]
        if back and len(path) > 1:
            return path + [start]
        step = next((w for w in nxt if w not in seen), None)
        if step is None:
            return path + [nxt[0]] if nxt else path
        path.append(step)
        seen.add(step)


def check(src, dot=False):
    """The problems found under src, as lines."""
    graph, problems = {}, []
    for path in sources(src):
        mod = module_of(path, src)
        graph.setdefault(mod, set())
        text = strip_comments(open(path, encoding='utf-8', errors='replace').read())
        for name in INCLUDE.findall(text):
            target = resolve(name, path, src)
            if target is None:
                continue        # PostgreSQL's or the system's
            dep = module_of(target, src)
            if dep != mod:
                graph[mod].add(dep)
        if path.endswith('.c'):
            for m in EXTERN.finditer(text):
                line = text.count('\n', 0, m.start()) + 1
                problems.append('extern declaration outside a header: %s:%d' % (os.path.relpath(path, src), line))

    if dot:
        print('digraph privacy_ext {')
        for mod in sorted(graph):
            for dep in sorted(graph[mod]):
                print('  "%s" -> "%s";' % (mod, dep))
        print('}')

    for component in cycles(graph):
        problems.append('include cycle: ' + ' -> '.join(one_cycle(graph, component)) +
                        '  (modules in the cycle: %s)' % ', '.join(component))
    return graph, problems


def self_test():
    """The checker finds a planted cycle and extern, and nothing once they are gone."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, 'sub'))
        files = {
            'a.h': '#include "postgres.h"\n',
            'a.c': '#include "a.h"\n#include "sub/b.h"\n',
            'sub/b.h': '/* #include "a.h" in a comment is no include */\n',
            'sub/b.c': '#include "b.h"\n#include "a.h"\nextern int planted;\n',
        }
        for name, text in files.items():
            with open(os.path.join(tmp, name), 'w') as f:
                f.write(text)
        _, problems = check(tmp)
        found_cycle = any(p.startswith('include cycle: ') and 'sub/b' in p for p in problems)
        found_extern = any(p == 'extern declaration outside a header: sub/b.c:3' for p in problems)
        with open(os.path.join(tmp, 'sub/b.c'), 'w') as f:
            f.write('#include "b.h"\n')
        _, clean = check(tmp)
    ok = found_cycle and found_extern and len(problems) == 2 and not clean
    print('self-test: %s (planted: %s; after removing them: %s)' %
          ('ok' if ok else 'FAILED', problems, clean or 'nothing'))
    return ok


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.normpath(os.path.join(here, '..', '..', 'src'))
    dot = False
    run_self_test = False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == '--src':
            src = os.path.abspath(args.pop(0))
        elif a == '--dot':
            dot = True
        elif a == '--self-test':
            run_self_test = True
        else:
            print(__doc__)
            return 2

    if run_self_test and not self_test():
        return 1
    graph, problems = check(src, dot)

    edges = sum(len(v) for v in graph.values())
    if problems:
        for p in problems:
            print(p)
        print('include graph: %d modules, %d edges, %d problems' % (len(graph), edges, len(problems)))
        return 1
    print('include graph: %d modules, %d edges, no cycles, no extern in .c files' % (len(graph), edges))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
