"""printable(): customer text shown on a terminal cannot drive the terminal."""

from insight.core.safe_text import printable, printable_line


def test_escape_sequences_are_removed_whole():
    assert printable("a\x1b]0;pwned\x07b") == "ab"  # OSC: sets the window title
    assert printable("x\x1b[2J\x1b[Hy") == "xy"  # clear screen, cursor home
    assert printable("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == "alink"  # OSC 8 hyperlink, ST-terminated
    assert printable("\x9b31mred") == "red"  # 8-bit CSI


def test_controls_go_text_stays():
    assert printable("bad\x00nul\x7f\x85!") == "badnul!"
    assert printable("Tomás 😀 [bold red]x[/]\ttab\nline") == "Tomás 😀 [bold red]x[/]\ttab\nline"
    assert printable("a\r\nb\rc") == "a\nb\nc"
    assert printable("\u202egpj.exe") == "gpj.exe"


def test_lone_surrogates_become_replacement_characters():
    text = printable("f\udcff.csv")
    assert text == "f\ufffd.csv"
    text.encode("utf-8")


def test_printable_line_is_one_line():
    assert printable_line("a\nb\tc\x1b[2Jd") == "a b cd"
