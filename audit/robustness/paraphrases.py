"""Paraphrased story openings for the paraphrase-consistency check, authored for this project.

Written for this harness and dedicated to the public domain (CC0-style, like the code-switching
lexicon): 24 groups of 3 openings in the style of TinyStories (short children's stories, the
bundled language model's training domain). The three openings of a group say the same thing with
the same names and entities in different words; groups differ from each other in topic and in
their main character, whose name (`ParaphraseGroup.name`) appears as a word in every opening of
its group and in no other group's. The first opening of each group is closest to TinyStories'
own phrasing ("Once upon a time, there was ..."); the others reorder or reword it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParaphraseGroup:
    """Openings that mean the same thing, and the main character every one of them names."""

    name: str
    prompts: tuple[str, ...]


PARAPHRASES: tuple[ParaphraseGroup, ...] = (
    ParaphraseGroup("Lily", (
        "Once upon a time, there was a little girl named Lily who loved to play in the park.",
        "Long ago, a small girl called Lily loved playing in the park.",
        "There once was a little girl, Lily, and she loved to play at the park.",
    )),
    ParaphraseGroup("Ben", (
        "One day, a boy named Ben found a big red ball under a tree.",
        "Under a tree one day, Ben, a little boy, found a large red ball.",
        "Ben was a boy. One day he found a big red ball lying under a tree.",
    )),
    ParaphraseGroup("Max", (
        "Once upon a time, there was a little dog named Max who found a bone in the garden.",
        "Max was a small dog. One day he found a bone in the garden.",
        "In the garden, a little dog called Max found a bone.",
    )),
    ParaphraseGroup("Mia", (
        "Once upon a time, there was a girl named Mia who wanted to bake a cake with her mom.",
        "Mia was a girl who wanted to make a cake with her mom.",
        "A little girl called Mia wanted to bake a cake together with her mother.",
    )),
    ParaphraseGroup("Tom", (
        "Once upon a time, there was a boy named Tom who was scared of the dark at night.",
        "Tom was a little boy, and at night he was afraid of the dark.",
        "At night, a boy called Tom felt scared because it was so dark.",
    )),
    ParaphraseGroup("Sue", (
        "One day, a girl named Sue got a new blue dress for her birthday.",
        "For her birthday, Sue, a little girl, got a pretty new blue dress.",
        "Sue was a girl. On her birthday she was given a new blue dress.",
    )),
    ParaphraseGroup("Mittens", (
        "Once upon a time, there was a cat named Mittens who climbed a tall tree and could not get down.",
        "Mittens the cat climbed up a tall tree, and then she could not come down.",
        "A little cat called Mittens went up a big tree and was stuck at the top.",
    )),
    ParaphraseGroup("Tim", (
        "One windy day, a boy named Tim wanted to fly his kite.",
        "It was a windy day, and Tim, a little boy, wanted to fly his kite.",
        "Tim was a boy who wanted to fly his kite because the day was windy.",
    )),
    ParaphraseGroup("Anna", (
        "Once upon a time, there was a girl named Anna who found a shiny stone by the river.",
        "By the river, a little girl called Anna found a shiny stone.",
        "Anna was a girl. One day she found a stone that was very shiny near the river.",
    )),
    ParaphraseGroup("Jack", (
        "One sunny day, a boy named Jack built a big sand castle at the beach.",
        "At the beach on a sunny day, Jack, a little boy, made a big castle out of sand.",
        "Jack was a boy who went to the beach on a sunny day and built a big sand castle.",
    )),
    ParaphraseGroup("Lucy", (
        "Once upon a time, there was a girl named Lucy who had a small garden with pretty flowers.",
        "Lucy was a little girl with a small garden full of pretty flowers.",
        "A girl called Lucy had a little garden, and it had many pretty flowers.",
    )),
    ParaphraseGroup("Sam", (
        "One day, a boy named Sam lost his favorite toy car.",
        "Sam was a little boy. One day he could not find his favorite toy car.",
        "A boy called Sam lost the toy car he liked best.",
    )),
    ParaphraseGroup("Bob", (
        "Once upon a time, there was a big bear named Bob who lived in the forest and loved honey.",
        "Bob was a big bear. He lived in the forest and he loved honey.",
        "In the forest lived a big bear called Bob, and he loved to eat honey.",
    )),
    ParaphraseGroup("Zoe", (
        "Once upon a time, there was a girl named Zoe who felt shy on her first day of school.",
        "Zoe was a little girl, and on her first day at school she was very shy.",
        "On the first day of school, a girl called Zoe felt shy.",
    )),
    ParaphraseGroup("Pip", (
        "Once upon a time, there was a little bird named Pip who could not fly yet.",
        "Pip was a small bird, and he did not know how to fly yet.",
        "A little bird called Pip was not able to fly yet.",
    )),
    ParaphraseGroup("Bella", (
        "Once upon a time, there was a cow named Bella who lived on a farm and wanted to see the big city.",
        "Bella was a cow on a farm, and she wanted to see the big city.",
        "On a farm lived a cow called Bella who wished to visit the big city.",
    )),
    ParaphraseGroup("Leo", (
        "Once upon a time, there was a lion named Leo who wanted to make friends, but the other animals were scared of him.",
        "Leo was a lion who wanted friends, but all the other animals were afraid of him.",
        "A lion called Leo wanted to make friends, but the other animals felt scared of him.",
    )),
    ParaphraseGroup("Emma", (
        "One day, a girl named Emma saw a big rainbow in the sky after the rain.",
        "After the rain, Emma, a little girl, saw a big rainbow in the sky.",
        "Emma was a girl. When the rain stopped, she saw a big rainbow up in the sky.",
    )),
    ParaphraseGroup("Jake", (
        "One morning, a boy named Jake went fishing with his grandpa at the lake.",
        "Jake was a little boy. One morning he went to the lake to fish with his grandpa.",
        "In the morning, a boy called Jake and his grandpa went fishing at the lake.",
    )),
    ParaphraseGroup("Rosie", (
        "One rainy day, a girl named Rosie found a lost puppy in the street.",
        "It was raining, and Rosie, a little girl, found a puppy that was lost in the street.",
        "Rosie was a girl who found a lost puppy in the street on a rainy day.",
    )),
    ParaphraseGroup("Freddy", (
        "Once upon a time, there was a green frog named Freddy who liked to jump in the pond.",
        "Freddy was a green frog, and he liked jumping in the pond.",
        "In the pond lived a green frog called Freddy who loved to jump.",
    )),
    ParaphraseGroup("Kate", (
        "One day, a girl named Kate wanted to paint a picture of the sun for her mom.",
        "Kate was a little girl who wanted to paint the sun for her mom.",
        "A girl called Kate wanted to make a painting of the sun to give to her mom.",
    )),
    ParaphraseGroup("Molly", (
        "Once upon a time, there was a girl named Molly who had a teddy bear that she took everywhere.",
        "Molly was a little girl, and she took her teddy bear everywhere she went.",
        "A girl called Molly had a teddy bear, and she took it with her everywhere.",
    )),
    ParaphraseGroup("Joe", (
        "One day, a boy named Joe went to the store with his mom to buy apples.",
        "Joe was a little boy. One day he and his mom went to the store to buy some apples.",
        "A boy called Joe and his mom went to the store one day to get apples.",
    )),
)
