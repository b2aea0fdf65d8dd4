/**
 * Common surnames across many countries, written for this project from general knowledge of census-style
 * surname frequency lists (public-domain facts; no third-party file was copied). Lower case.
 */
export const SURNAMES = `
smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson
anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis
robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall
rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker cruz edwards collins reyes
stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed kelly howard
ramos kim cox ward richardson watson brooks chavez wood james bennett gray mendoza ruiz hughes price
alvarez castillo sanders patel myers long ross foster jimenez powell jenkins perry russell sullivan bell
coleman butler henderson barnes gonzales fisher vasquez simmons romero jordan patterson alexander hamilton
graham reynolds griffin wallace moreno west cole hayes bryant herrera gibson ellis tran medina aguilar
stevens murray ford castro marshall owens harrison fernandez mcdonald woods washington kennedy wells
vargas henry chen freeman webb tucker guzman burns crawford olson simpson porter hunter gordon mendez
silva shaw snyder mason dixon munoz hunt hicks holmes palmer wagner black robertson boyd rose stone
salazar fox warren mills meyer rice schmidt garza daniels ferguson nichols stephens soto weaver ryan
gardner payne grant dunn kelley spencer hawkins arnold pierce vazquez hansen peters santos hart bradley
knight elliott cunningham duncan armstrong hudson carroll lane riley andrews alvarado ray delgado berry
perkins hoffman johnston matthews pena richards contreras willis carpenter lawrence sandoval guerrero
george chapman rios estrada ortega watkins greene nunez wheeler valdez harper burke larson santiago
maldonado morrison franklin carlson austin dominguez carr lawson jacobs obrien lynch singh vega bishop
montgomery oliver jensen harvey williamson gilbert dean sims espinoza howell li wong reid hanson le
mccoy garrett burton fuller wang weber welch rojas lucas marquez fields park yang little banks padilla
day walsh bowman schultz luna fowler mejia davidson acosta brewer may holland juarez newman pearson
curtis cortez douglas schneider joseph barrett navarro figueroa keller avila wade molina stanley hopkins
campos barnett bates chambers caldwell beck lambert miranda byrd craig ayala lowe frazier powers neal
leonard gregory carrillo sutton fleming rhodes shelton schwartz norris jennings watts duran walters
cohen mcdaniel moran parks steele vaughn becker holt deleon barker terry hale leon hail benson haynes
horton miles lyons pham graves bush thornton wolfe warner cabrera mckinney mann zimmerman dawson lara
fletcher page mccarthy love robles cervantes solis erickson reeves chang klein salinas fuentes baldwin
daniel simon velasquez hardy higgins aguirre lin cummings chandler sharp barber bowen ochoa dennis
robbins liu ramsey francis griffith paul blair oconnor cardenas pacheco cross calderon quinn moss
swanson chan rivas khan rodgers serrano fitzgerald rosales stevenson christensen manning gill curry
mclaughlin harmon mcgee gross doyle garner newton burgess reese walton blake trujillo adkins brady
goodman roman webster goodwin fischer huang potter delacruz montoya todd wu hines mullins castaneda
malone cannon tate mack sherman hubbard hodges zhang guerra wolf valencia saunders franco rowe gallagher
farmer hammond hampton townsend ingram wise gallegos clarke barton schroeder maxwell waters logan
camacho strickland norman person colon parsons frank harrington glover osborne buchanan casey floyd
patton ibarra ball tyler suarez bowers orozco salas cobb gibbs andrade bauer conner moody escobar
mcguire lloyd mueller hartman french kramer mcbride pope lindsey velazquez norton mccormick sparks
flynn yates hogan marsh macias villanueva zamora pratt stokes owen ballard lang brock villarreal
charles drake barrera cain patrick pineda burnett mercado santana shepherd bautista ali shaffer lamb
trevino mckenzie hess beil olsen cochran morton nash wilkins petersen briggs shah roth nicholson holloway
lozano rangel flowers hoover short arias mora valenzuela bryan meyers weiss underwood bass greer summers
houston carson morrow clayton whitaker decker yoder collier zuniga carey wilcox melendez poole roberson
larsen conley davenport copeland massey lam huff rocha cameron jefferson hood monroe anthony pittman
huynh randall singleton kirk combs mathis christian skinner bradford richard galvan wall boone kirby
wilkinson bridges bruce atkinson velez meza roy vincent york hodge villa abbott allison tapia gates
chase sosa sweeney farrell wyatt dalton horn barron phelps yu dickerson heath foley atkins mathews
bonilla acevedo benitez zavala hensley glenn cisneros harrell shields rubio choi huffman boyer garrison
arroyo bond kane hancock callahan dillon cline wiggins grimes arellano melton oneill savage ho beltran
pitts parrish ponce rich booth koch golden ware brennan mcdowell marks cantu humphrey baxter sawyer
clay tanner hutchinson kaur berg wiley gilmore russo villegas hobbs keith wilkerson ahmed beard mcclain
montes mata rosario vang walter henson oneal mosley mcclure beasley stephenson snow huerta preston vance
barry johns eaton blackwell dyer prince macdonald solomon guevara stafford english hurst woodard cortes
shannon kemp nolan mccullough merritt murillo moon salgado strong kline cordova barajas roach rosas
winters jacobson lester knox bullock kerr leach meadows orr davila whitehead pruitt kent conway mckee
barr david dejesus marin berger mcintyre blankenship gaines palacios cuevas bartlett durham dorsey
mccall odonnell stein browning stout lowery sloan mclean hendricks calhoun sexton chung gentry hull
duarte ellison nielsen gillespie buck middleton sellers leblanc esparza hardin bradshaw mcintosh howe
livingston frost glass morse knapp herman stark bravo noble spears weeks corona frederick buckley
mcfarland hebert enriquez hickman quintero randolph schaefer walls trejo house reilly pennington michael
conrad giles benjamin crosby fitzpatrick donovan mays mahoney valentine raymond medrano hahn mcmillan
small bentley felix peck lucero boyle hanna pace rush hurley harding mcconnell bernal nava ayers everett
ventura avery pugh mayer bender shepard mcmahon landry case sampson moses magana blackburn dunlap gould
duffy vaughan herring mckay espinosa rivers farley bernard ashley friedman potts truong costa correa
blevins nixon clements fry delarosa best benton lugo portillo dougherty crane haley phan villalobos
blanchard horne finley quintana lynn esquivel bean dodson mullen xiong hayden cano levy huber richmond
moyer lim frye sheppard mccarty avalos booker waller parra woodward jaramillo krueger rasmussen brandt
peralta donaldson stuart faulkner maynard galindo coffey estes sanford burch maddox vo oconnell vu
andersen spence mcpherson church schmitt stanton leal cherry compton dudley sierra pollard alfaro
hester proctor lu hinton novak good madden mccann terrell jarvis dickson reyna cantrell mayo branch
hendrix rollins rowland whitney duke odom daugherty travis tang archer
muller mueller schmidt schneider fischer weber meyer wagner becker schulz hoffmann schafer koch bauer
richter klein wolf schroder neumann schwarz zimmermann braun kruger hofmann hartmann lange schmitt werner
schmitz krause meier lehmann schmid schulze maier kohler herrmann konig walter mayer huber kaiser fuchs
peters lang scholz moller weiss jung hahn schubert vogel friedrich keller gunther frank berger winkler
roth beck lorenz baumann franke albrecht schuster simon ludwig bohm winter kraus martin schumacher
kramer vogt stein jager otto sommer gross seidel heinrich brandt haas schreiber graf schulte dietrich
ziegler kuhn kuhn pohl engel horn busch bergmann thomas voigt sauer arnold wolff pfeiffer
martin bernard dubois thomas robert richard petit durand leroy moreau simon laurent lefebvre michel
garcia david bertrand roux vincent fournier morel girard andre lefevre mercier dupont lambert bonnet
francois martinez legrand garnier faure rousseau blanc guerin muller henry roussel nicolas perrin
morin mathieu clement gauthier dumont lopez fontaine chevalier robin masson sanchez gerard nguyen
boyer denis lemaire duval joly gautier roger roche roy noel meyer lucas meunier jean perez marchand
dufour blanchard marie barbier brun dumas brunet schmitt leroux colin fernandez pierre renard arnaud
rolland caron aubert giraud leclerc vidal bourgeois renaud lemoine picard gaillard philippe leclercq
lacroix fabre dupuis olivier rodriguez da silva hubert louis charles guillot riviere le gall guillaume
adam rey moulin gonzalez berger lecomte menard fleury deschamps carpentier julien benoit paris maillard
marchal aubry vasseur le roux renault jacquet collet prevost poirier charpentier royer huet baron
dupuy pons paul laine carre breton remy schneider perrot guyot barre marty cousin 
rossi russo ferrari esposito bianchi romano colombo ricci marino greco bruno gallo conti de luca mancini
costa giordano rizzo lombardi moretti barbieri fontana santoro mariani rinaldi caruso ferrara galli
martini leone longo gentile martinelli vitale lombardo serra coppola de santis d'angelo marchetti
parisi villa conte ferraro ferri fabbri bianco marini grasso valentini messina sala de angelis gatti
pellegrini palumbo sanna farina rizzi monti cattaneo morelli amato silvestri mazza testa grassi
pellegrino carbone giuliani benedetti barone rossetti caputo montanari guerra palmieri bernardi
martino fiore de rosa ferretti bellini basile riva donati piras vitali battaglia sartori neri costantini
milani pagano ruggiero sorrentino d'amico orlando damico negri
garcia fernandez gonzalez rodriguez lopez martinez sanchez perez gomez martin jimenez ruiz hernandez
diaz moreno alvarez munoz romero alonso gutierrez navarro torres dominguez vazquez ramos gil ramirez
serrano blanco suarez molina morales ortega delgado castro ortiz rubio marin sanz nunez iglesias medina
garrido cortes castillo santos lozano guerrero cano prieto mendez cruz calvo gallego vidal leon herrera
marquez pena flores cabrera campos vega fuentes carrasco diez caballero reyes nieto aguilar pascual
santana herrero lorenzo montero hidalgo gimenez ibanez ferrer duran santiago benitez mora vicente
vargas arias carmona crespo roman pastor soto saez velasco moya soler parra esteban bravo gallardo rojas
silva santos ferreira pereira oliveira costa rodrigues martins jesus sousa fernandes goncalves gomes
lopes marques alves almeida ribeiro pinto carvalho teixeira moreira correia mendes nunes soares vieira
monteiro cardoso rocha raposo neves coelho cruz cunha pires ramos reis simoes antunes matos fonseca
machado araujo barbosa lima souza castro azevedo barros freitas melo dias batista campos nascimento
moraes andrade cavalcanti medeiros borges miranda farias peixoto aragao quintana brito
de jong jansen de vries van den berg van dijk bakker janssen visser smit meijer de boer mulder de groot
bos vos peters hendriks van leeuwen dekker brouwer de wit dijkstra smits de graaf van der meer van der
linden kok jacobs de haan vermeulen van den heuvel van der veen van den broek de bruijn de bruin van der
heijden schouten van beek willems van vliet van de ven hoekstra maas verhoeven koster van dam van der wal
prins blom huisman peeters de smet maes claes goossens wouters de clercq
johansson andersson karlsson nilsson eriksson larsson olsson persson svensson gustafsson pettersson
jonsson jansson hansson bengtsson jonsson lindberg jakobsson magnusson olofsson lindstrom lindqvist
lindgren berg axelsson bergstrom lundberg lind lundgren lundqvist mattsson berglund fredriksson sandberg
henriksson forsberg sjoberg wallin engstrom eklund danielsson lundin hakansson bjork bergman gunnarsson
holm wikstrom samuelsson isaksson fransson bergqvist nystrom holmberg arvidsson lofgren soderberg nyberg
blomqvist claesson nordstrom ahlberg strom carlsson
hansen johansen olsen larsen andersen pedersen nilsen kristiansen jensen karlsen johnsen pettersen eriksen
berg haugen hagen johannessen andreassen jacobsen dahl jorgensen halvorsen henriksen lund sorensen jakobsen
moen gundersen iversen strand solberg svendsen eide knutsen martinsen paulsen bakken kristoffersen mathisen
lie amundsen nguyen rasmussen ali lunde solheim berge moe nygard bakke kristensen fredriksen holm lien
hauge christensen andresen nielsen knudsen evensen saether aas myhre hanssen ahmed haugland thomassen
sivertsen simonsen danielsen berntsen sandvik rodriguez mikkelsen poulsen madsen christiansen
thomsen frederiksen mortensen clausen schmidt knudsen mikkelsen petersen 
korhonen virtanen makinen nieminen makela hamalainen laine heikkinen koskinen jarvinen lehtonen lehtinen
saarinen salminen heinonen niemi heikkila kinnunen salonen turunen salo laitinen tuominen rantanen
karjalainen jokinen mattila savolainen lahtinen ahonen manninen 
jonsson gudmundsson sigurdsson olafsson kristjansson magnusson stefansson einarsson bjornsson gunnarsson
jonsdottir gudmundsdottir sigurdardottir olafsdottir kristjansdottir stefansdottir
einarsdottir bjornsdottir gunnarsdottir
nowak kowalski wisniewski wojcik kowalczyk kaminski lewandowski zielinski szymanski wozniak dabrowski
kozlowski jankowski mazur wojciechowski kwiatkowski krawczyk kaczmarek piotrowski grabowski zajac
pawlowski michalski krol wieczorek jablonski wrobel nowakowski majewski olszewski stepien malinowski
jaworski adamczyk dudek nowicki pawlak gorski witkowski walczak sikora baran rutkowski michalak szewczyk
ostrowski tomaszewski pietrzak zalewski wroblewski marciniak jasinski zawadzki bak jakubowski sadowski
duda wlodarczyk wilk chmielewski borkowski sokolowski szczepanski sawicki lucz kucharski
kowalska wisniewska wojcik kaminska lewandowska zielinska szymanska dabrowska kozlowska jankowska
szczepanska tomaszewska chmielewska
novak svoboda novotny dvorak cerny prochazka kucera vesely horak nemec marek pospisil pokorny hajek kral
jelinek ruzicka benes fiala sedlacek dolezal zeman kolar navratil cermak vanek urban blazek kriz kovar
kratochvil bartos vlcek polak musil kopecky simek konecny maly holub stastny cech stepanek kadlec
novakova svobodova novotna dvorakova cerna prochazkova kucerova vesela horakova nemcova 
nagy kovacs toth szabo horvath varga kiss molnar nemeth farkas balogh papp takacs juhasz lakatos meszaros
olah simon racz fekete szilagyi torok feher balazs gal kis szucs kocsis orsos pinter fodor szalai sipos
magyar lukacs gulyas biro kiraly laszlo katona jakab bogdan balog sandor boros fazekas kelemen antal
gabor 
ivanov smirnov kuznetsov popov vasiliev petrov sokolov mikhailov novikov fedorov morozov volkov
alekseev lebedev semenov egorov pavlov kozlov stepanov nikolaev orlov andreev makarov nikitin zakharov
zaitsev soloviev borisov yakovlev grigoriev romanov vorobiev sergeev kuzmin frolov alexandrov dmitriev
korolev gusev kiselev ilyin maksimov polyakov sorokin vinogradov kovalev belov medvedev antonov tarasov
zhukov baranov filippov komarov davydov belyaev gerasimov bogdanov osipov sidorov matveev titov markov
mironov krylov kulikov karpov vlasov melnikov denisov gavrilov tikhonov kazakov afanasiev danilov
savelyev timofeev fomin chernov abramov martynov efimov fedotov shcherbakov nazarov kalinin isaev
chernyshev bykov maslov rodionov konovalov lazarev voronin klimov filatov ponomarev golubev kudryavtsev
prokhorov naumov potapov zhuravlev ovchinnikov trofimov leonov sobolev ermakov kolesnikov goncharov
emelyanov nikiforov grachev kotov grishin efremov arkhipov gromov kirillov malyshev panov moiseev
rumyantsev akimov kondratiev biryukov gorbunov anisimov eremin tikhomirov galkin lukyanov mikheev
skvortsov yudin belousov nesterov simonov prokofiev kharitonov knyazev tsvetkov levin mitrofanov
voronov aksenov sofronov maltsev loginov gorshkov savin krasnov mayorov demidov eliseev rybakov
sukhanov ivanova smirnova kuznetsova popova petrova sokolova volkova morozova novikova kozlova
lebedeva orlova pavlova 
shevchenko kovalenko bondarenko tkachenko kravchenko oliynyk shevchuk polishchuk lysenko boyko
melnyk marchenko moroz savchenko rudenko kovalchuk petrenko klymenko
papadopoulos papadakis georgiou nikolaou ioannou konstantinou christodoulou vasileiou dimitriou
pappas karagiannis oikonomou makris alexiou antoniou athanasiou theodorou michailidis papageorgiou
yilmaz kaya demir sahin celik yildiz yildirim ozturk aydin ozdemir arslan dogan kilic aslan cetin kara
koc kurt ozkan simsek polat korkmaz karatas erdogan tekin aktas acar
khan ahmed ali hussain shah malik iqbal akhtar rashid aziz haddad khoury nassar saleh hamdan
mansour farah saad karam haddad aboud bakr mahmoud hassan hussein ibrahim abdullah yousef
sato suzuki takahashi tanaka watanabe ito yamamoto nakamura kobayashi kato yoshida yamada sasaki
yamaguchi matsumoto inoue kimura hayashi shimizu yamazaki mori abe ikeda hashimoto ishikawa ogawa
okada goto hasegawa murakami kondo ishii saito sakamoto endo aoki fujii nishimura fukuda ota miura
fujiwara okamoto matsuda nakagawa nakano harada ono tamura takeuchi kaneko wada nakayama ishida ueda
morita hara shibata sakai kudo yokoyama miyazaki miyamoto uchida takagi ando taniguchi ohno maruyama
imai takada fujita kojima murata 
kim lee park choi jung kang cho yoon jang lim han oh seo shin kwon hwang ahn song jeon hong yoo ko
moon yang son bae baek heo nam sim noh ha kwak sung cha joo woo koo min ryu na jin ji uhm
wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie
song tang han feng deng cao peng zeng xiao tian dong pan yuan cai jiang yu du ye cheng wei su lu ding
ren shen yao lu jiang cui zhong tan lu wang fan jin shi liao jia xia wei fu fang bai zou meng xiong
nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly
sharma verma gupta kumar singh patel shah mehta joshi reddy rao nair iyer pillai menon das bose
chatterjee banerjee mukherjee ghosh sen dutta chakraborty mishra pandey tiwari yadav jain agarwal
kapoor malhotra chopra khanna bhatia sethi arora saxena srivastava chauhan thakur desai naidu
cohen levi levy mizrahi peretz biton dahan avraham friedman katz azoulay goldberg rosenberg
horowitz shapiro weiss klein stein kaplan schwartz
okafor okonkwo adeyemi adebayo oluwaseun mensah boateng owusu asante osei appiah amoah acheampong
mwangi otieno kamau wanjiru njoroge achieng odhiambo ochieng
jovanovic petrovic nikolic markovic djordjevic stojanovic ilic stankovic pavlovic milosevic popovic
horvat kovacevic babic maric juric novak kovacic knezevic vukovic marković petrović tomic
hodzic hadzic begic delic mehmedovic kovac mesic
tamm saar sepp magi kask kukk rebane ilves parn koppel tomic
berzins kalnins ozols jansons ozolins liepins krumins balodis
kazlauskas jankauskas petrauskas stankevicius vasiliauskas zukauskas butkus paulauskas
popescu ionescu popa pop radu dumitru stan stoica gheorghe matei ciobanu rusu munteanu constantin
mccarthy mcdonald mcconnell mcmahon mccann mcgrath mclaughlin murphy kelly walsh byrne ryan oconnor
doherty kennedy lynch murray quinn moore mcloughlin duffy brennan burke collins campbell clarke johnston
hughes oneill doyle oreilly gallagher carroll reilly dunne fitzgerald higgins kavanagh nolan
forbes fraser mackenzie mackay macleod macdonald ross sinclair stewart cameron grant hamilton
davies evans thomas jones williams roberts hughes lewis morgan griffiths owen price rees jenkins
`;
