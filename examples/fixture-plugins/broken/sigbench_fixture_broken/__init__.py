"""A sigbench plugin whose import fails: sigbench must list it as broken and keep working."""

raise ImportError("sigbench_fixture_broken needs the package 'notinstalled_dependency'")
