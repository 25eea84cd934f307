"""Which language a person reads the app in, and the words in it.

The browser chooses (`st.context.locale`: Chromium with pt-BR gets Portuguese); the switch in the
sidebar changes it for the session and the URL keeps it (`?lang=pt-BR`), as it keeps the model.
Pages ask `t(code, **params)` for every word they show: the code is the message's identity, the
catalogues (catbreed/locale) hold the words."""

import streamlit as st

from catbreed.messages import ENGLISH, LANGUAGES, PORTUGUESE, Message, language_of, message, number, percent

LANGUAGE_PARAM = "lang"
SWITCH_KEY = "language-switch"
TAGS = {ENGLISH: "en", PORTUGUESE: "pt-BR"}  # as the URL writes them
NAMES = {ENGLISH: "English", PORTUGUESE: "Português (Brasil)"}  # each in its own language


def language() -> str:
    """This person's language: the one the URL names, else the one chosen earlier in the session
    (switching pages drops the URL's parameters), else their browser's."""
    chosen = st.query_params.get(LANGUAGE_PARAM) or st.session_state.get(LANGUAGE_PARAM)
    return language_of(chosen) if chosen else language_of(st.context.locale)


def language_switch() -> None:
    """In the sidebar of every page: the language, changed for this session and kept in the URL."""
    # The box shows the language in use (a link's ?lang= may have changed it), not what it showed last.
    st.session_state[SWITCH_KEY] = language()
    st.sidebar.selectbox(t("frame.language"), LANGUAGES, format_func=NAMES.get, key=SWITCH_KEY, on_change=_switched)
    if in_url := st.query_params.get(LANGUAGE_PARAM):  # a link's choice is the session's from now on
        st.session_state[LANGUAGE_PARAM] = in_url
    elif LANGUAGE_PARAM in st.session_state:  # back in the URL after a page switch dropped it
        st.query_params[LANGUAGE_PARAM] = st.session_state[LANGUAGE_PARAM]


def _switched() -> None:
    st.session_state[LANGUAGE_PARAM] = st.query_params[LANGUAGE_PARAM] = TAGS[st.session_state[SWITCH_KEY]]


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
