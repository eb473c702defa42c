use super::*;

#[test]
fn markup_characters_are_escaped_in_attributes_and_text() {
    assert_eq!(attribute("<&\"'>"), "&lt;&amp;&quot;&apos;&gt;");
    assert_eq!(text("<&\"'>"), "&lt;&amp;&quot;&apos;&gt;");
    assert_eq!(text("a ]]> b"), "a ]]&gt; b");
}

#[test]
fn line_breaks_survive_an_attribute_and_stay_literal_in_text() {
    assert_eq!(attribute("a\nb\tc\rd"), "a&#10;b&#9;c&#13;d");
    assert_eq!(text("a\nb\tc\rd"), "a\nb\tc&#13;d");
}

#[test]
fn characters_xml_cannot_hold_are_replaced() {
    assert_eq!(
        attribute("a\u{1}b\u{1b}c\u{FFFE}d"),
        "a\u{FFFD}b\u{FFFD}c\u{FFFD}d"
    );
    assert_eq!(text("\u{0}"), "\u{FFFD}");
    // Everything else passes through as it is.
    assert_eq!(
        text("Ñandú 📞 \u{D7FF}\u{E000}"),
        "Ñandú 📞 \u{D7FF}\u{E000}"
    );
}
