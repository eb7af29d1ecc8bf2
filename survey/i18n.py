"""The app's own words on respondent pages, in every language it speaks.

Survey texts carry their own translations (docs/survey-format.md); these are the
buttons, notices and messages around them. A survey in a language not listed
here shows its own texts with this chrome in English.
"""

from __future__ import annotations

from typing import Any

import flask_babel
from babel import Locale, UnknownLocaleError
from flask import Flask, g
from flask_babel import Babel

from survey.config import TRANSLATIONS_DIR

FALLBACK = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "page_title": "Survey",
        "skip_to_content": "Skip to main content",
        "quick_exit": "Leave this page quickly",
        "quick_exit_hint": "Press Shift three times to leave at once.",
        "quick_exit_note": "Leaving ends your session: answers you haven't saved are lost, and to come back to saved answers you need your resume code.",
        "language": "Language",
        "support_heading": "If you need support",
        "support_intro": "Talking to someone can help. These services are free and confidential.",
        "phone": "Phone",
        "hours": "Hours",
        "website": "Website",
        "who_runs_it": "Who runs it",
        "how_long": "How long it takes",
        "estimated_time": "About {minutes} minutes. You can stop at any time.",
        "all_optional": 'Every question is optional: skip anything you don\'t want to answer, or choose "Prefer not to say".',
        "privacy_summary": "We don't ask who you are, and your answers are locked (encrypted) the moment they reach us.",
        "what_happens": "What happens to your answers",
        "fixed_notice_1": "We don't ask for your name or contact details, and we don't record your IP address, your device or the time you answer. We only keep the week.",
        "fixed_notice_2": "Only the people analysing this consultation hold the key that unlocks your answers. Anyone who got hold of the stored answers, a backup or the logs would learn nothing from them.",
        "fixed_notice_3": "Results are only published as totals. Any group smaller than {k} people is hidden, so no one can be singled out.",
        "fixed_notice_4": "After you finish you get a receipt code. With it you can withdraw your answers until the report is published.",
        "fixed_notice_5": "If you stop part way, you can get a private code to come back later.",
        "fixed_notice_6": "Locking protects answers from the moment they are stored. The one thing it can't protect against is someone taking control of the running server itself: they could read answers as they arrive.",
        "invite_label": "Invite code",
        "invite_hint": "This survey is by invitation. Enter the code you were given, for example ABCD-EFGH-JKMN-PQRS.",
        "start": "Start the survey",
        "continue_survey": "Continue the survey",
        "already_started": "You have already started this survey in this browser. Your answers so far are kept.",
        "resume_link": "Continue with a resume code",
        "withdraw_link": "Withdraw answers you already sent",
        "step_of": "Step {step} of {total}",
        "back": "Back",
        "next": "Save and continue",
        "save_for_later": "Save and get a resume code",
        "to_review": "Save and review your answers",
        "prefer_not_to_say": "Prefer not to say",
        "or": "or",
        "other": "Other",
        "other_label": "Other (please describe)",
        "choose_up_to": "Choose up to {limit}.",
        "choose_any": "Choose as many as you like.",
        "scale_hint": "{min} means {min_label}, {max} means {max_label}.",
        "number_hint": "Enter a number between {min} and {max}.",
        "text_limit_hint": "Up to {limit} characters.",
        "leave_out_names": "Please leave out names and places.",
        "quote_question": "May we quote these words in the report?",
        "quote_hint": "Only if you say yes, and only after anything that could identify you has been removed.",
        "quote_yes": "Yes, you may quote them",
        "quote_no": "No, don't quote them",
        "review_quote_yes": "You said these words may be quoted.",
        "review_quote_no": "Not to be quoted.",
        "new_questions": "Some more questions appeared below because of your answers. Answer them if you want to, then continue.",
        "follow_up_shown": "A follow-up question appeared below your answer.",
        "error_summary": "There is a problem",
        "error_summary_intro": "Nothing you typed has been lost. Please check:",
        "err_choose_one": "Choose only one answer",
        "err_not_an_option": "Choose one of the answers shown",
        "err_too_many_choices": "Choose at most {limit} answers",
        "err_options_and_pnts": 'Choose answers or "Prefer not to say", not both',
        "err_other_and_pnts": 'Either describe your answer or choose "Prefer not to say", not both',
        "err_other_text_unused": 'You wrote in the "Other" box but chose another answer. Choose "Other" or clear the box',
        "err_answer_and_pnts": 'Either answer or tick "Prefer not to say", not both',
        "err_not_a_number": "Enter a number, like 3",
        "err_out_of_range": "Enter a number between {min} and {max}",
        "err_too_big": "Enter a smaller number",
        "err_too_long": "This answer is too long: please shorten it to {limit} characters or fewer",
        "warning_heading": "Before you continue",
        "content_warning": "Content note",
        "continue_section": "Continue to this section",
        "skip_section": "Skip this section",
        "review_heading": "Check your answers",
        "review_intro": "You can change anything before you send it. Once sent, your answers are locked (encrypted).",
        "change": "Change",
        "change_section": "Change answers in “{section}”",
        "not_answered": "Not answered",
        "section_skipped": "You skipped this section.",
        "submit": "Send my answers",
        "resume_code_heading": "Your resume code",
        "resume_code_intro": "Your answers are saved. To come back, go to this survey and choose “Continue with a resume code”, then enter:",
        "resume_code_warning": "Write this code down or save it somewhere private. We can't show it again or recover it: we don't keep it, so a lost code can't be replaced. It stops working when you send your answers or after {weeks} weeks.",
        "resume_code_replaced": "You asked for a new code, so any earlier code for these answers no longer works.",
        "confirm_saved_code": "I have saved my code",
        "confirm_saved_required": "Tick the box to confirm you have saved your code",
        "continue_answering": "Continue answering",
        "close_now": "You can also close this page now.",
        "resume_heading": "Continue with a resume code",
        "resume_label": "Resume code",
        "resume_hint": "16 letters and numbers, for example ABCD-EFGH-JKMN-PQRS. Capitals, spaces and dashes don't matter.",
        "resume_button": "Continue",
        "code_malformed": "That doesn't look like a code: codes have 16 letters and numbers, like ABCD-EFGH-JKMN-PQRS",
        "resume_not_found": "We couldn't find saved answers with that code. Check it and try again. Codes stop working when answers are sent or after {weeks} weeks",
        "invite_not_found": "We couldn't find that invite code. Check it and try again",
        "invite_required": "Enter the invite code you were given",
        "receipt_heading": "Your answers have been sent",
        "receipt_intro": "Thank you. This is your receipt code:",
        "receipt_warning": "With this code you can withdraw your answers until the report is published. Write it down or save it somewhere private: we can't show it again or recover it.",
        "finish": "Finish",
        "thanks_heading": "Thank you",
        "thanks_default": "Thank you for sharing your views. Your answers will be combined with everyone else's; no one can be singled out.",
        "withdraw_heading": "Withdraw your answers",
        "withdraw_intro": "Enter the receipt code you were given when you sent your answers.",
        "receipt_label": "Receipt code",
        "withdraw_find": "Find my answers",
        "withdraw_not_found": "We couldn't find answers with that receipt code. Check it and try again. If you already withdrew, there is nothing more to do",
        "withdraw_confirm_heading": "Withdraw these answers?",
        "withdraw_confirm_intro": "Your answers will be deleted for good. This can't be undone.",
        "withdraw_button": "Yes, delete my answers",
        "withdraw_cancel": "No, keep them",
        "withdrawn_heading": "Your answers have been withdrawn",
        "withdrawn_body": "They have been deleted and will not be part of the report. Thank you for taking part.",
        "withdraw_closed": "The report for this survey has been published, so answers can no longer be withdrawn. Published results only show totals, and groups smaller than {k} are hidden.",
        "unknown_heading": "We couldn't find this survey",
        "unknown_body": "Check the web address. If someone gave you a link, it may have a typing mistake.",
        "draft_heading": "This survey isn't open yet",
        "draft_body": "Please come back later.",
        "closed_heading": "This survey has closed",
        "closed_body": "Thank you for your interest. It's no longer taking answers.",
        "closed_before_submit": "This survey closed before your answers were sent, so they couldn't be included.",
        "invite_used_heading": "This invite code has already been used",
        "invite_used_body": "Your invite code has already been used to send answers to this survey, so these answers have not been sent. Each invite code can send answers once.",
        "invite_used_contact": "If you think this is a mistake, please contact whoever gave you the invite code. If you need to talk to someone, the support services below are there for you.",
        "expired_heading": "Your session has ended",
        "expired_body": "For your privacy, a survey session ends after {minutes} minutes without activity or when the browser closes.",
        "expired_resume": "If you saved a resume code, you can continue where you left off.",
        "expired_restart": "If you didn't save a code, you can start again.",
        "expired_text_intro": "So nothing is lost, here is what you wrote on that page. You can copy it before you continue:",
        "already_sent_heading": "Your answers were already sent",
        "already_sent_body": "There is nothing more to do. Thank you.",
        "start_again": "Start again",
        "back_to_start": "Back to the start of the survey",
        "error_heading": "Something went wrong",
        "error_body": "Sorry, that didn't work. Nothing has been shared. Please go back and try again.",
        "sign_in_heading": "Please sign in",
        "sign_in_body": "This page is for staff who are signed in.",
        "forbidden_heading": "You can't use this page",
        "forbidden_body": "Your account doesn't have access to it. Ask an administrator if you need it.",
        "not_found_heading": "Page not found",
        "not_found_body": "There is nothing at this address.",
        "too_large_heading": "That was too much to send at once",
        "too_large_body": "Please shorten your longest answer and try again. Use your browser's back button: what you typed should still be there.",
        "unavailable_heading": "This service is briefly unavailable",
        "unavailable_body": "If you had just sent answers, they were not saved this time; answers you saved before are safe. Please wait a minute, then go back and try again.",
        "too_many_heading": "Too many attempts",
        "too_many_body": "Please wait a few minutes and try again.",
        "form_expired_heading": "This page has expired",
        "form_expired_body": "For your safety, pages stop working after some time or when the browser closes. Please go back to the start of the survey.",
        "receipt_lapsed_body": "For your privacy, the receipt code is shown only for {minutes} minutes after the answers are sent, and it can't be shown again.",
        "cross_site_heading": "Nothing was changed",
        "cross_site_body": "This request came from another website, so it was stopped to keep your answers safe. To take part, open the survey's link again.",
    },
    "es": {
        "page_title": "Encuesta",
        "skip_to_content": "Ir al contenido principal",
        "quick_exit": "Salir rápido de esta página",
        "quick_exit_hint": "Pulsa Mayúsculas tres veces para salir al instante.",
        "quick_exit_note": "Al salir termina tu sesión: se pierden las respuestas que no hayas guardado, y para volver a las guardadas necesitas tu código para retomar.",
        "language": "Idioma",
        "support_heading": "Si necesitas apoyo",
        "support_intro": "Hablar con alguien puede ayudar. Estos servicios son gratuitos y confidenciales.",
        "phone": "Teléfono",
        "hours": "Horario",
        "website": "Sitio web",
        "who_runs_it": "Quién la organiza",
        "how_long": "Cuánto se tarda",
        "estimated_time": "Unos {minutes} minutos. Puedes parar cuando quieras.",
        "all_optional": 'Todas las preguntas son opcionales: salta lo que no quieras responder o elige "Prefiero no decirlo".',
        "privacy_summary": "No te preguntamos quién eres, y tus respuestas se cierran con llave (se cifran) en cuanto nos llegan.",
        "what_happens": "Qué pasa con tus respuestas",
        "fixed_notice_1": "No te pedimos tu nombre ni tus datos de contacto, y no registramos tu dirección IP, tu dispositivo ni la hora a la que respondes. Solo guardamos la semana.",
        "fixed_notice_2": "Solo las personas que analizan esta consulta tienen la llave que abre tus respuestas. Quien se hiciera con las respuestas guardadas, una copia de seguridad o los registros no sabría nada de ellas.",
        "fixed_notice_3": "Los resultados solo se publican como totales. Cualquier grupo de menos de {k} personas se oculta, para que nadie pueda ser identificado.",
        "fixed_notice_4": "Al terminar recibes un código de recibo. Con él puedes retirar tus respuestas hasta que se publique el informe.",
        "fixed_notice_5": "Si paras a mitad, puedes pedir un código privado para volver más tarde.",
        "fixed_notice_6": "Cerrar con llave protege las respuestas desde el momento en que se guardan. Lo único de lo que no puede protegerlas es de alguien que tomara el control del propio servidor en funcionamiento: podría leer las respuestas al llegar.",
        "invite_label": "Código de invitación",
        "invite_hint": "Esta encuesta es solo con invitación. Escribe el código que te dieron, por ejemplo ABCD-EFGH-JKMN-PQRS.",
        "start": "Empezar la encuesta",
        "continue_survey": "Continuar la encuesta",
        "already_started": "Ya empezaste esta encuesta en este navegador. Tus respuestas hasta ahora se guardan.",
        "resume_link": "Continuar con un código para retomar",
        "withdraw_link": "Retirar respuestas que ya enviaste",
        "step_of": "Paso {step} de {total}",
        "back": "Atrás",
        "next": "Guardar y continuar",
        "save_for_later": "Guardar y obtener un código para retomar",
        "to_review": "Guardar y revisar tus respuestas",
        "prefer_not_to_say": "Prefiero no decirlo",
        "or": "o",
        "other": "Otra",
        "other_label": "Otra (descríbela, por favor)",
        "choose_up_to": "Elige hasta {limit}.",
        "choose_any": "Elige todas las que quieras.",
        "scale_hint": "{min} significa {min_label}, {max} significa {max_label}.",
        "number_hint": "Escribe un número entre {min} y {max}.",
        "text_limit_hint": "Hasta {limit} caracteres.",
        "leave_out_names": "Por favor, no incluyas nombres ni lugares.",
        "quote_question": "¿Podemos citar estas palabras en el informe?",
        "quote_hint": "Solo si dices que sí, y siempre después de quitar cualquier dato que pueda identificarte.",
        "quote_yes": "Sí, podéis citarlas",
        "quote_no": "No, no las citéis",
        "review_quote_yes": "Dijiste que se pueden citar estas palabras.",
        "review_quote_no": "No se citarán.",
        "new_questions": "Han aparecido más preguntas abajo según tus respuestas. Respóndelas si quieres y luego continúa.",
        "follow_up_shown": "Ha aparecido una pregunta más debajo de tu respuesta.",
        "error_summary": "Hay un problema",
        "error_summary_intro": "No se ha perdido nada de lo que escribiste. Revisa, por favor:",
        "err_choose_one": "Elige solo una respuesta",
        "err_not_an_option": "Elige una de las respuestas que se muestran",
        "err_too_many_choices": "Elige como máximo {limit} respuestas",
        "err_options_and_pnts": 'Elige respuestas o "Prefiero no decirlo", no ambas cosas',
        "err_other_and_pnts": 'Describe tu respuesta o elige "Prefiero no decirlo", no ambas cosas',
        "err_other_text_unused": 'Escribiste en la casilla "Otra" pero elegiste otra respuesta. Elige "Otra" o borra la casilla',
        "err_answer_and_pnts": 'Responde o marca "Prefiero no decirlo", no ambas cosas',
        "err_not_a_number": "Escribe un número, como 3",
        "err_out_of_range": "Escribe un número entre {min} y {max}",
        "err_too_big": "Escribe un número más pequeño",
        "err_too_long": "Esta respuesta es demasiado larga: acórtala a {limit} caracteres o menos",
        "warning_heading": "Antes de continuar",
        "content_warning": "Aviso sobre el contenido",
        "continue_section": "Continuar con esta sección",
        "skip_section": "Saltar esta sección",
        "review_heading": "Revisa tus respuestas",
        "review_intro": "Puedes cambiar cualquier cosa antes de enviarla. Una vez enviadas, tus respuestas quedan cerradas con llave (cifradas).",
        "change": "Cambiar",
        "change_section": "Cambiar respuestas de «{section}»",
        "not_answered": "Sin responder",
        "section_skipped": "Saltaste esta sección.",
        "submit": "Enviar mis respuestas",
        "resume_code_heading": "Tu código para retomar",
        "resume_code_intro": "Tus respuestas están guardadas. Para volver, entra en esta encuesta, elige «Continuar con un código para retomar» y escribe:",
        "resume_code_warning": "Anota este código o guárdalo en un lugar privado. No podemos volver a mostrarlo ni recuperarlo: no lo guardamos, así que un código perdido no se puede reponer. Deja de funcionar cuando envíes tus respuestas o al cabo de {weeks} semanas.",
        "resume_code_replaced": "Pediste un código nuevo, así que cualquier código anterior para estas respuestas ya no funciona.",
        "confirm_saved_code": "He guardado mi código",
        "confirm_saved_required": "Marca la casilla para confirmar que has guardado tu código",
        "continue_answering": "Seguir respondiendo",
        "close_now": "También puedes cerrar esta página ahora.",
        "resume_heading": "Continuar con un código para retomar",
        "resume_label": "Código para retomar",
        "resume_hint": "16 letras y números, por ejemplo ABCD-EFGH-JKMN-PQRS. Mayúsculas, espacios y guiones dan igual.",
        "resume_button": "Continuar",
        "code_malformed": "Eso no parece un código: los códigos tienen 16 letras y números, como ABCD-EFGH-JKMN-PQRS",
        "resume_not_found": "No encontramos respuestas guardadas con ese código. Revísalo e inténtalo de nuevo. Los códigos dejan de funcionar al enviar las respuestas o al cabo de {weeks} semanas",
        "invite_not_found": "No encontramos ese código de invitación. Revísalo e inténtalo de nuevo",
        "invite_required": "Escribe el código de invitación que te dieron",
        "receipt_heading": "Tus respuestas se han enviado",
        "receipt_intro": "Gracias. Este es tu código de recibo:",
        "receipt_warning": "Con este código puedes retirar tus respuestas hasta que se publique el informe. Anótalo o guárdalo en un lugar privado: no podemos volver a mostrarlo ni recuperarlo.",
        "finish": "Terminar",
        "thanks_heading": "Gracias",
        "thanks_default": "Gracias por compartir tu opinión. Tus respuestas se combinarán con las de todas las demás personas; nadie podrá ser identificado.",
        "withdraw_heading": "Retirar tus respuestas",
        "withdraw_intro": "Escribe el código de recibo que recibiste al enviar tus respuestas.",
        "receipt_label": "Código de recibo",
        "withdraw_find": "Buscar mis respuestas",
        "withdraw_not_found": "No encontramos respuestas con ese código de recibo. Revísalo e inténtalo de nuevo. Si ya las retiraste, no hace falta hacer nada más",
        "withdraw_confirm_heading": "¿Retirar estas respuestas?",
        "withdraw_confirm_intro": "Tus respuestas se borrarán para siempre. No se puede deshacer.",
        "withdraw_button": "Sí, borrar mis respuestas",
        "withdraw_cancel": "No, conservarlas",
        "withdrawn_heading": "Tus respuestas se han retirado",
        "withdrawn_body": "Se han borrado y no formarán parte del informe. Gracias por participar.",
        "withdraw_closed": "El informe de esta encuesta ya se publicó, así que las respuestas ya no se pueden retirar. Los resultados publicados solo muestran totales y los grupos de menos de {k} personas se ocultan.",
        "unknown_heading": "No encontramos esta encuesta",
        "unknown_body": "Revisa la dirección web. Si alguien te dio un enlace, puede tener un error.",
        "draft_heading": "Esta encuesta aún no está abierta",
        "draft_body": "Vuelve más tarde, por favor.",
        "closed_heading": "Esta encuesta ha cerrado",
        "closed_body": "Gracias por tu interés. Ya no admite respuestas.",
        "closed_before_submit": "Esta encuesta cerró antes de que se enviaran tus respuestas, así que no se han podido incluir.",
        "invite_used_heading": "Este código de invitación ya se ha usado",
        "invite_used_body": "Tu código de invitación ya se ha usado para enviar respuestas a esta encuesta, así que estas respuestas no se han enviado. Cada código de invitación puede enviar respuestas una sola vez.",
        "invite_used_contact": "Si crees que es un error, contacta con quien te dio el código de invitación. Si necesitas hablar con alguien, los servicios de apoyo de abajo están para ayudarte.",
        "expired_heading": "Tu sesión ha terminado",
        "expired_body": "Por tu privacidad, una sesión termina tras {minutes} minutos sin actividad o al cerrar el navegador.",
        "expired_resume": "Si guardaste un código para retomar, puedes seguir donde lo dejaste.",
        "expired_restart": "Si no guardaste un código, puedes empezar de nuevo.",
        "expired_text_intro": "Para que no se pierda nada, esto es lo que escribiste en esa página. Puedes copiarlo antes de continuar:",
        "already_sent_heading": "Tus respuestas ya se enviaron",
        "already_sent_body": "No hace falta hacer nada más. Gracias.",
        "start_again": "Empezar de nuevo",
        "back_to_start": "Volver al inicio de la encuesta",
        "error_heading": "Algo ha fallado",
        "error_body": "Lo sentimos, no ha funcionado. No se ha compartido nada. Vuelve atrás e inténtalo de nuevo.",
        "sign_in_heading": "Inicia sesión, por favor",
        "sign_in_body": "Esta página es para el personal que ha iniciado sesión.",
        "forbidden_heading": "No puedes usar esta página",
        "forbidden_body": "Tu cuenta no tiene acceso. Pide acceso a una persona administradora si lo necesitas.",
        "not_found_heading": "Página no encontrada",
        "not_found_body": "No hay nada en esta dirección.",
        "too_large_heading": "Era demasiado para enviarlo de una vez",
        "too_large_body": "Acorta tu respuesta más larga e inténtalo de nuevo. Usa el botón de volver del navegador: lo que escribiste debería seguir ahí.",
        "unavailable_heading": "El servicio no está disponible por un momento",
        "unavailable_body": "Si acababas de enviar respuestas, esta vez no se han guardado; las que guardaste antes están a salvo. Espera un minuto, vuelve atrás e inténtalo de nuevo.",
        "too_many_heading": "Demasiados intentos",
        "too_many_body": "Espera unos minutos e inténtalo de nuevo.",
        "form_expired_heading": "Esta página ha caducado",
        "form_expired_body": "Por tu seguridad, las páginas dejan de funcionar pasado un tiempo o al cerrar el navegador. Vuelve al inicio de la encuesta, por favor.",
        "receipt_lapsed_body": "Por tu privacidad, el código de recibo solo se muestra durante {minutes} minutos después de enviar las respuestas, y no se puede volver a mostrar.",
        "cross_site_heading": "No se ha cambiado nada",
        "cross_site_body": "Esta petición venía de otro sitio web, así que se ha detenido para proteger tus respuestas. Para participar, abre de nuevo el enlace de la encuesta.",
    },
}

LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def translate(key: str, language: str, **params: Any) -> str:
    """The message `key` in `language` (English where it has no translation)."""
    catalogue = MESSAGES.get(language) or MESSAGES[FALLBACK]
    text = catalogue.get(key) or MESSAGES[FALLBACK][key]
    return text.format(**params) if params else text


def language_name(tag: str) -> str:
    return LANGUAGE_NAMES.get(tag, tag)


# --- gettext catalogues (Flask-Babel) --------------------------------------------------
# The app's words are gettext messages whose msgids are the English text; each language
# the app speaks has survey/translations/<language>/LC_MESSAGES/messages.po (edited by
# translators) and messages.mo (compiled, what the app reads). `make messages` extracts
# and updates them; README "Languages" says how to add one.

ENGLISH = "en"
_LANGUAGE_KEY = "chorus_language"
babel = Babel()


def init_babel(app: Flask) -> None:
    """Flask-Babel on `app`, reading survey/translations, the locale chosen per request."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", ENGLISH)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    babel.init_app(app, locale_selector=selected_locale)
    # {% trans %} blocks lose their line breaks and indentation, as pybabel extracts them.
    app.jinja_env.policies["ext.i18n.trimmed"] = True


def selected_locale() -> str:
    """The respondent's survey language on respondent pages (set by `use_language`),
    English everywhere else unless a report forces its survey's language."""
    chosen = g.get(_LANGUAGE_KEY)
    return chosen if isinstance(chosen, str) else ENGLISH


def use_language(language: str) -> None:
    """Speak `language` for the rest of this request (a respondent page's survey language)."""
    setattr(g, _LANGUAGE_KEY, language)
    flask_babel.refresh()


def babel_locale(language: str) -> Locale | None:
    """Babel's locale for a survey language tag ("es", "pt-BR"), or None if it knows none."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def is_rtl(language: str) -> bool:
    """Whether `language` is written right to left (Arabic, Hebrew, Farsi, Urdu...)."""
    locale = babel_locale(language)
    return locale is not None and locale.character_order == "right-to-left"


def text_direction(language: str) -> str:
    """The HTML dir attribute's value for text in `language`."""
    return "rtl" if is_rtl(language) else "ltr"


def shipped_languages() -> list[str]:
    """The languages the app's own words are translated into, besides English."""
    if not TRANSLATIONS_DIR.is_dir():
        return []
    return sorted(p.parent.parent.name for p in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po"))
