"""A small English -> Spanish lexicon for code-switching perturbations, authored for this project.

Common words of children's stories (the bundled TinyStories held-out text), each mapped to one
everyday Spanish translation (no accents dropped, lower case; case is restored by the caller).
Where a word has several translations the most common neutral one is used (e.g. "big" ->
"grande"); articles and pronouns are included on purpose, since real code-switched text keeps
them in either language. About 125 entries; extend it for other domains.
"""

EN_ES: dict[str, str] = {
    "the": "el", "a": "un", "an": "un", "and": "y", "or": "o", "but": "pero", "with": "con", "in": "en",
    "on": "sobre", "to": "a", "of": "de", "for": "para", "from": "de", "at": "en", "was": "era", "is": "es",
    "are": "son", "were": "eran", "had": "tenía", "has": "tiene", "have": "tener", "he": "él", "she": "ella",
    "they": "ellos", "we": "nosotros", "you": "tú", "i": "yo", "it": "eso", "his": "su", "her": "su",
    "their": "su", "my": "mi", "your": "tu", "not": "no", "very": "muy", "so": "tan", "too": "también",
    "day": "día", "time": "tiempo", "once": "una vez", "upon": "sobre", "there": "allí", "little": "pequeño",
    "big": "grande", "boy": "niño", "girl": "niña", "mom": "mamá", "dad": "papá", "friend": "amigo",
    "friends": "amigos", "dog": "perro", "cat": "gato", "bird": "pájaro", "fish": "pez", "tree": "árbol",
    "house": "casa", "park": "parque", "ball": "pelota", "toy": "juguete", "toys": "juguetes", "car": "coche",
    "sun": "sol", "water": "agua", "food": "comida", "cake": "pastel", "book": "libro", "box": "caja",
    "happy": "feliz", "sad": "triste", "good": "bueno", "bad": "malo", "new": "nuevo", "old": "viejo",
    "red": "rojo", "blue": "azul", "green": "verde", "pretty": "bonita", "nice": "amable", "kind": "amable",
    "scared": "asustado", "play": "jugar", "played": "jugó", "run": "correr", "ran": "corrió", "saw": "vio",
    "see": "ver", "said": "dijo", "say": "decir", "went": "fue", "go": "ir", "wanted": "quería",
    "want": "querer", "like": "gustar", "liked": "le gustaba", "loved": "amaba", "love": "amor",
    "help": "ayuda", "helped": "ayudó", "looked": "miró", "found": "encontró", "made": "hizo",
    "came": "vino", "home": "casa", "together": "juntos", "all": "todo", "one": "uno", "two": "dos",
    "three": "tres", "yes": "sí", "no": "no", "thank": "gracias", "sorry": "perdón", "now": "ahora",
    "then": "entonces", "after": "después", "night": "noche", "morning": "mañana", "sky": "cielo",
    "flower": "flor", "flowers": "flores", "garden": "jardín", "school": "escuela", "room": "cuarto",
    "door": "puerta", "bed": "cama", "hat": "sombrero",
}
