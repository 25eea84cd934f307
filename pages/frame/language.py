"""Which language a person reads the app in, and the words in it.

The browser chooses (`st.context.locale`: Chromium with pt-BR gets Portuguese); the switch in the
sidebar changes it for the session and the URL keeps it (`?lang=pt-BR`), as it keeps the model.
Pages ask `t(code, **params)` for every word they show: the code is the message's identity, the
catalogues (catbreed/locale) hold the words."""

import streamlit as st

from catbreed.messages import ENGLISH, LANGUAGES, PORTUGUESE, Message, language_of, message, number, percent

LANGUAGE_PARAM = "lang"
TAGS = {ENGLISH: "en", PORTUGUESE: "pt-BR"}  # as the URL writes them
NAMES = {ENGLISH: "English", PORTUGUESE: "Português (Brasil)"}  # each in its own language


def language() -> str:
    """This person's language: the one the URL names, else their browser's."""
    chosen = st.query_params.get(LANGUAGE_PARAM)
    return language_of(chosen) if chosen else language_of(st.context.locale)


def language_switch() -> None:
    """In the sidebar of every page: the language, changed for this session and kept in the URL."""
    current = language()
    chosen = st.sidebar.selectbox(
        t("frame.language"), LANGUAGES, index=LANGUAGES.index(current), format_func=NAMES.get, key="language"
    )
    if chosen != current:
        st.query_params[LANGUAGE_PARAM] = TAGS[chosen]
        st.rerun()


def t(code: str, **params) -> str:
    """The words for `code` in this person's language."""
    return message(code, **params).text(language())


def said(item: Message | str) -> str:
    """A message the library made (an error, a skip reason, a warning), in this person's language."""
    return item.text(language()) if isinstance(item, Message) else item


def pct(fraction: float, decimals: int = 1) -> str:
    """92.5% or 92,5%, as this person's language writes it."""
    return percent(fraction, language(), decimals)


def num(value: float, decimals: int = 1) -> str:
    return number(value, language(), decimals)
