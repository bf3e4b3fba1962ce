/** Short documents on clearly different topics, for search tests. */
export const TOPICS: Record<string, string> = {
  gardening:
    'Tomato plants need full sun and regular watering. Prune the suckers that grow between the stem and the branches so the plant puts its energy into fruit. Mulch keeps the soil moist during hot summer weeks.',
  databases:
    'A B-tree index lets the database find rows without scanning the whole table. Vacuum reclaims space left by deleted rows, and analyze refreshes the planner statistics used to choose between an index scan and a sequential scan.',
  astronomy:
    'Jupiter is the largest planet in the solar system, a gas giant with a great red spot, a storm larger than the Earth. Its moons Io, Europa, Ganymede and Callisto were discovered by Galileo in 1610.',
  cooking:
    'To make a risotto, toast the arborio rice in butter, then add hot stock one ladle at a time, stirring until each addition is absorbed. Finish with parmesan and a knob of cold butter off the heat.',
  cycling:
    'Check the tyre pressure before every ride and lubricate the chain after riding in the rain. A worn chain stretches and wears the cassette, so replace it before it damages the gears.',
};
