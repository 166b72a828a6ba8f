"""The pure decision core: profile in, recommendation out.

Public API (no web, database or framework imports anywhere in this package):

- ``engine.recommend(profile: Profile) -> Recommendation`` - the decision itself
  (``engine.decide(values)`` + ``render.to_json``/``render.to_model`` are its two halves).
- ``batch.recommend_batch_json(lines: Iterable[str | bytes]) -> Iterator[str]`` - one JSON
  line per non-blank input line (same text as ``Recommendation.model_dump_json()``);
  ``batch.recommend_json(text) -> str`` and ``batch.parse_profile(text, line=None) -> Profile``
  for single profiles. Invalid input raises ``errors.ProfileError`` (``.message``, ``.line``,
  ``.field``, ``.allowed``, ``.problems``).
- ``errors.describe_validation_error(exc: ValidationError) -> list[dict]`` - problems as
  ``{"field", "message", "allowed"}`` for 422 bodies.
- ``bank.BANK`` (``.version``, ``.questions``, ``.get(id)``), ``bank.parse_answer``,
  ``bank.parse_form_answer``, ``bank.visible_questions``, ``bank.next_question``,
  ``bank.profile_from_answers``, ``bank.answers_from_profile``, ``bank.walk`` (visible
  questions and counted answers in one pass); ``Question.all_options`` adds "Not sure"
  (value ``bank.NOT_SURE``); errors are ``bank.AnswerError``.
- ``wording.WORDING`` (``.approaches``, ``.prerequisites``: a ``label`` and a ``summary``
  for every id of the decision contract) - what pages, exports and the API call them.
- ``rules.RULESET_VERSION`` - the version of ``data/rules.toml``, ``data/questions.toml``
  and ``data/wording.toml``.
"""
