/**
 * Hand-written word lists used by the person and address rules: common English words (never a name on
 * their own), place words, titles, name particles and street-type words.
 */
export const COMMON_WORDS = `
a about above across after again against all almost alone along already also although always am among an
and another any anyone anything are around as ask asked at away back be became because become been before
began behind being below best better between big both but by call called came can cannot case certain
change clear close come could day did different do does done down during each early either else end enough
even ever every example eyes face fact far feel few find first five for found four from full further gave
general get give given go going good got great group had half hand has have having he head hear heard help
her here herself high him himself his home how however i if important in into is it its itself just keep
kind knew know known large last later least left less let life light like line little long look made make
man many may me mean men might more most mother mr much must my myself name near need never new next night
no not nothing now number of off often old on once one only open or order other others our out over own
part people perhaps place point possible present public put quite rather really right room said same saw
say second see seem seemed seen set several shall she should show side since small so some something
sometimes soon still such sure take than that the their them themselves then there these they thing things
think this those though thought three through thus time to today together told too took toward turn two
under until up upon us use used very want was way we well went were what when where whether which while
who whole whom whose why will with within without word work world would year years yes yet you your
hello hi hey dear thanks thank please sorry ok okay yes no yeah sure great good nice welcome regards
sincerely cheers best kind warm love hope wish wishes happy merry birthday congratulations
monday tuesday wednesday thursday friday saturday sunday january february march april may june july
august september october november december today tomorrow yesterday morning evening afternoon night week
month year weekend christmas easter
user assistant system question answer customer client patient doctor nurse agent admin manager team staff
address phone email mail website name date time number account card bank credit debit payment invoice
order service support help desk office mobile fax home work street road avenue city state country zip
code postal box unit suite apt apartment floor building room lane drive court place square
company inc ltd llc corp corporation group partners associates foundation university college school
institute hospital clinic center centre department ministry government council committee board
north south east west northern southern eastern western central upper lower new old great little
united states kingdom republic america american european english french german spanish italian
international national global local regional
i im ive id ill my mine me we our us you your he his him she her they their it its
what which who whom whose where when why how
is are was were be been being am do does did done have has had will would shall should can could may
might must
not no yes all any some each every both either neither none one two three four five six seven eight nine
ten first second third last next previous
the a an this that these those there here
and or but nor so yet for because although though unless since while whereas
in on at by to from with without within into onto upon over under above below between among through
during before after around about against along across behind beside besides beyond despite except
inside outside near off out past per than toward towards via
mr mrs ms miss dr prof sir madam
just also only even still already again ever never always often sometimes usually really very quite
too much many more most less least few little lot lots
new old big small large long short high low good bad great best better worst worse right left
true false real sure free full open close closed public private main same different other another
such own whole
please thanks thank hi hello dear
call tell ask said says say told asked called named meet met send sent give gave take took make made
get got go went come came see saw know knew think thought want need like love hate feel felt find found
let put keep kept leave left bring brought buy bought pay paid move moved live lives lived work works
worked play played read write wrote run ran stop start started end ended show shown help try tried use
add remove update change cancel block lost stolen expired withdraw transfer apply applied check
account card bank money cash limit transaction transactions statement billing billed amount balance
loan fee fees charge charges points rewards
song songs film films movie album book books novel story stories tale tales show series season episode
band music concert tour record records award awards prize game games team club league cup
river lake mountain mount island islands beach park bridge tower castle church cathedral temple
hotel restaurant cafe bar pub shop store market mall airport station port
red blue green black white yellow orange purple pink brown gray grey gold silver
spring summer autumn fall winter
doctor professor president director manager officer captain general king queen prince princess lord
lady saint god lord jesus christ
chapter section page figure table note
anyway however therefore meanwhile moreover furthermore otherwise perhaps maybe
hey wow oh ah
info information personal details contact e-mail email bot chatbot user agent orchestra symphony choir
weekly daily monthly annual times post journal magazine gazette herald tribune news review quarterly
day days love secret secretly salesperson employee month months week weeks hour hours minute minutes
award awarded winner champion best top hits hit chart charts list lists playlist edition volume issue
experience skills skill education summary objective profile references reference languages language
degree bachelor master diploma certificate certified manager director engineer developer analyst
specialist consultant coordinator administrator officer representative technician designer architect
accountant assistant associate executive supervisor intern trainee volunteer member members
company business industry market economy finance sales marketing product products service services
project projects program programs software hardware data system systems network networks computer
internet web online digital cloud mobile app apps application applications platform technology
health medical insurance care life family friends people person man woman men women boy girl
house home city town village country state region area zone district county province capital
north south east west
`;

/** Honorifics and titles that introduce a person's name. */
export const TITLES =
  'mr mrs ms miss mx mister madam madame mme mlle dr doctor prof professor sir dame lord lady rev reverend ' +
  'fr father sr sister br brother hon judge justice capt captain col colonel lt lieutenant sgt sergeant gen ' +
  'general maj major cmdr commander adm admiral gov governor sen senator rep president pres herr frau sra sr ' +
  'senor senora signor signora sig dott don dona sheikh';

/** Lower-case particles inside names (van der Berg, da Silva, bin Laden). */
export const NAME_PARTICLES =
  'van von der den de da das do dos del della di du la le ter ten al el bin ibn ben st mac';

/** Words just before a name that say "a person follows" (lower case; matched as whole words). */
export const PERSON_CUES = `
name named names called call calls calling dear hi hello hey thanks thank regards sincerely cheers from
by with and or to for tell ask asked told contact contacted meet met married marry visit visited
wife husband son daughter mother father mom dad brother sister uncle aunt cousin grandfather grandmother
grandson granddaughter nephew niece kid child children baby boyfriend girlfriend fiance fiancee partner
friend colleague boss manager assistant neighbor neighbour teacher student patient client customer
employee coworker guardian beneficiary owner tenant landlord
producer director directed written songwriter singer actor actress author writer poet painter artist
composer commenter player coach founder cofounder ceo cto cfo chairman president minister senator
governor mayor professor doctor nurse officer detective agent lawyer attorney judge sung performed
starring featuring features feat says said according
`;

/** Words that, right after a capitalised token, suggest it is a person. */
export const PERSON_AFTER_CUES = `
said says say told asked replied explained wrote writes thinks thought believes added noted stated
lives lived works worked is was has had will would can could did does spent flew went came called
smiled laughed shouted cried nodded whispered
`;

/** Street-type words (English and common international forms) that end or start a street name. */
export const STREET_TYPES = `
street st str road rd avenue ave av avda boulevard blvd bvd drive dr lane ln court ct place pl square sq
terrace ter terr way parkway pkwy highway hwy freeway expressway circle cir crescent cres close grove
gardens gardens garden hill hills heights row mews walk wharf quay alley aly passage path pike trail trl
turnpike tpke bypass byp causeway route rte crossing xing loop bend point pt ridge view vista park plaza
plz commons common green gate gateway mall market esplanade embankment promenade parade rise run track
circus corner cove coves creek estate estates extension extensions field fields flat flats ford forge
forges fork forks glen glens harbor harbour haven island junction key knoll knolls landing lodge manor
meadow meadows mill mills mission motorway orchard oval pass pines plains port prairie radial ramp
ranch rapids rest river shoal shore shores spring springs spur station stravenue stream summit throughway
trace trafficway tunnel union valley viaduct village ville vis wall well wells bridge brook brooks burg
camp canyon cape center centre cliff cliffs club crest curve dale dam divide expy falls ferry flats
fort freeway glen hollow inlet isle lake lakes light lights locks mount mountain neck overpass pine
pointe port ports skyway square squares underpass villages
`;

/** Street words of other languages that usually precede the name (Rue X, Via X, Calle X, ul. X). */
export const STREET_PREFIXES = `
rue avenue av avenida av. calle carrer rua via viale corso piazza piazzale largo strada str. ul. ul ulica
aleja al. plac rynek bulevar boulevard bd chemin route impasse allee place quai cours rambla paseo camino
travessa praca praça estrada rodovia ruta carretera ronda vicolo contrada platz gasse ulitsa prospekt
pereulok ulice nam. namesti trida sokak cadde caddesi bulvari λεωφόρος οδός πλατεία
`;

/** Street-word endings in other languages (Söndergade, Hauptstraße, Kiannonkatu, Magasinsgatan…). */
export const STREET_SUFFIXES = `
strasse straße str gasse weg platz allee ring damm ufer chaussee steig pfad
straat laan weg gracht plein kade singel dreef
gade vej vaenget vænget stræde straede alle plads torv
gatan gata vagen vägen väg vag stigen backen torget gränd grand
veien vegen gata gaten gate stien bakken
katu tie kuja polku kaari raitti vayla väylä rinne kulma
utca ut út ter tér korut körút sor
ulica ulice trida třída namesti náměstí
braut gata vegur stigur stræti straeti tun
tanav maantee puiestee
iela prospekts
gatve prospektas
straße
`;
