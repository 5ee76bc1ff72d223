"""How the documentation test reads Markdown: which fences are examples, and what markers mean."""

from __future__ import annotations

import pytest

from tests.docs.blocks import Block, BlockError, console_commands, find_blocks


def blocks_of(text: str) -> list[Block]:
    return list(find_blocks(text, "page.md"))


def test_a_python_fence_is_an_example_with_its_line_and_code() -> None:
    (block,) = blocks_of("# Title\n\n```python\nx = 1\nprint(x)\n```\n")
    assert (block.id, block.language, block.code) == ("page.md:3", "python", "x = 1\nprint(x)\n")
    assert block.is_example
    assert block.no_run_reason is None


def test_a_no_run_marker_on_the_line_before_the_fence_gives_its_reason() -> None:
    (block,) = blocks_of("<!-- no-run: installs packages -->\n```sh\npip install x\n```\n")
    assert block.no_run_reason == "installs packages"


def test_a_marker_separated_by_blank_lines_still_belongs_to_the_fence() -> None:
    (block,) = blocks_of("<!-- no-run: a server -->\n\n```sh\nserve\n```\n")
    assert block.no_run_reason == "a server"


def test_a_no_run_marker_must_say_why() -> None:
    with pytest.raises(BlockError, match="say why"):
        blocks_of("<!-- no-run -->\n```sh\npip install x\n```\n")


@pytest.mark.parametrize("language", ["sh", "bash", "py", "shell"])
def test_a_shell_or_py_fence_without_a_marker_is_refused_so_none_goes_unrun(language: str) -> None:
    with pytest.raises(BlockError, match="do not run"):
        blocks_of(f"```{language}\necho hi\n```\n")


def test_a_fence_without_a_language_is_refused() -> None:
    with pytest.raises(BlockError, match="without a language"):
        blocks_of("```\nsomething\n```\n")


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(BlockError, match="unknown fence language"):
        blocks_of("```pyhton\nx = 1\n```\n")


def test_data_fences_and_myst_directives_are_not_examples() -> None:
    blocks = blocks_of("```toml\n[a]\nb = 1\n```\n\n```{toctree}\nqueries\n```\n")
    assert [block.is_example for block in blocks] == [False, False]


def test_an_exit_code_marker_sets_the_expected_code_of_a_console_block() -> None:
    (block,) = blocks_of("<!-- exit-code: 2 -->\n```console\n$ pyconviva historical x\n```\n")
    assert block.expected_exit_code == 2


def test_an_exit_code_marker_is_refused_on_a_python_block() -> None:
    with pytest.raises(BlockError, match="exit-code"):
        blocks_of("<!-- exit-code: 2 -->\n```python\nx = 1\n```\n")


def test_a_pytest_marker_is_refused_on_a_console_block() -> None:
    with pytest.raises(BlockError, match="pytest"):
        blocks_of("<!-- pytest -->\n```console\n$ pyconviva metrics\n```\n")


def test_an_unclosed_fence_is_refused_with_its_line() -> None:
    with pytest.raises(BlockError, match=r"page\.md:2: a fence that is never closed"):
        blocks_of("text\n```python\nx = 1\n")


def test_a_fence_indented_in_a_list_item_is_read_without_the_indent() -> None:
    (block,) = blocks_of("- item\n\n  ```python\n  x = 1\n  ```\n")
    assert block.code == "x = 1\n"


def test_a_longer_fence_may_hold_a_shorter_one() -> None:
    (block,) = blocks_of("````text\n```python\nx = 1\n```\n````\n")
    assert block.code == "```python\nx = 1\n```\n"


def test_console_commands_keep_the_output_shown_under_each_command() -> None:
    (block,) = blocks_of(
        "```console\n$ pyconviva metrics --groups\ngroup,metrics\n...\n$ pyconviva kpis\n```\n"
    )
    first, second = console_commands(block)
    assert first.argv == ["pyconviva", "metrics", "--groups"]
    assert first.expected_output == "group,metrics\n..."
    assert (second.argv, second.expected_output) == (["pyconviva", "kpis"], "")


def test_console_commands_join_continuation_lines_and_drop_comments() -> None:
    (block,) = blocks_of(
        "```console\n$ pyconviva historical attempts \\\n    --days 7  # a week\n```\n"
    )
    (command,) = console_commands(block)
    assert command.argv == ["pyconviva", "historical", "attempts", "--days", "7"]


def test_a_console_block_with_another_program_must_be_marked_no_run() -> None:
    (block,) = blocks_of("```console\n$ pip install pyconviva\n```\n")
    with pytest.raises(BlockError, match="only `\\$ pyconviva"):
        console_commands(block)
