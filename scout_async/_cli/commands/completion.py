"""``completion``: the shell completion script for bash, zsh or fish."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

__all__ = ["completion"]

_VARIABLE = "_SCOUT_ASYNC_COMPLETE"


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script of SHELL: commands, options and their choices.

    \b
    bash:  eval "$(scout-async completion bash)"        (in ~/.bashrc)
    zsh:   eval "$(scout-async completion zsh)"         (in ~/.zshrc)
    fish:  scout-async completion fish > ~/.config/fish/completions/scout-async.fish
    """
    kind = get_completion_class(shell)
    assert kind is not None  # the choice lists only shells click knows
    root = ctx.find_root().command
    click.echo(kind(root, {}, "scout-async", _VARIABLE).source())
