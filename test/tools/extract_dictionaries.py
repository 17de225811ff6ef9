#!/usr/bin/env python3
"""Regenerates data/dict/*.txt from Debian's python3-fake-factory (Faker 0.9.3,
Expat/MIT licence, (c) 2012 Daniele Faraglia; see data/dict/SOURCES.md).

The dictionaries are committed; this script documents where they come from and
rebuilds them byte for byte:  /usr/bin/python3 test/tools/extract_dictionaries.py
Entries are the union over the locales listed, kept only when they are plain
Latin letters (plus space, hyphen, apostrophe and Latin-1 accents), so every
entry is safe to print in any UTF-8 database; sorted, one per line."""
import importlib, os, pkgutil, re, sys
import faker.providers.address as address_pkg

PERSON_LOCALES = ["en_US", "en_GB", "en_AU", "en_CA", "de_DE", "fr_FR", "es_ES", "es_MX",
                  "it_IT", "nl_NL", "pt_PT", "pt_BR", "sv_SE", "da_DK", "no_NO", "fi_FI", "pl_PL"]
ENTRY = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ' .-]{0,38}[A-Za-zÀ-ÖØ-öø-ÿ.]$")

def provider(mod):
    try:
        return importlib.import_module(mod).Provider
    except ImportError:
        return None

def values(obj, *attrs):
    out = []
    for a in attrs:
        v = getattr(obj, a, None) if obj is not None else None
        if v is None:
            continue
        out += list(v.keys()) if isinstance(v, dict) else list(v)
    return out

def clean(entries):
    """Valid entries, one per ASCII-case-folded spelling (the first in sorted order)."""
    kept = {}
    for e in sorted(e.strip() for e in entries if isinstance(e, str)):
        if ENTRY.match(e):
            kept.setdefault(e.lower(), e)
    return sorted(kept.values())

def main(outdir):
    first, last, cities = [], [], []
    for loc in PERSON_LOCALES:
        p = provider("faker.providers.person." + loc)
        first += values(p, "first_names_female", "first_names_male", "first_names")
        last += values(p, "last_names")
    for m in pkgutil.iter_modules(address_pkg.__path__):
        cities += values(provider("faker.providers.address." + m.name), "cities")
    countries = values(provider("faker.providers.address.en_US"), "countries")
    os.makedirs(outdir, exist_ok=True)
    for name, entries in [("first_names", first), ("last_names", last),
                          ("cities", cities), ("countries", countries)]:
        entries = clean(entries)
        with open(os.path.join(outdir, name + ".txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(entries) + "\n")
        print(name, len(entries))

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data/dict")
